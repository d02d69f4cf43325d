"""The reference EPOS's REST app as a uvicorn factory, so tests can run it in server processes.

``python -m uvicorn --factory tests.reliability.epos_server:create_app --port N`` with the database
and credentials in the environment (``RELIABILITY_EPOS_DB``, ``RELIABILITY_EPOS_USER``,
``RELIABILITY_EPOS_PASSWORD``). The schema must already exist (the test creates and seeds it), so
several processes can share one PostgreSQL database from their first request.

:class:`EposProcess` starts one such process, waits for ``/healthz``, and can ``kill -9`` and
restart it on the same port.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from dojo_epos.epos.reference.db import Database
from dojo_epos.epos.reference.handler import ReferenceEpos
from dojo_epos.epos.rest import build_rest_app

REPO_ROOT = Path(__file__).resolve().parents[2]


def create_app() -> Starlette:
    """The REST app over a :class:`ReferenceEpos` on ``$RELIABILITY_EPOS_DB``."""
    handler = ReferenceEpos(Database(os.environ["RELIABILITY_EPOS_DB"], pool_size=5))
    return build_rest_app(handler, username=os.environ["RELIABILITY_EPOS_USER"],
                          password=os.environ["RELIABILITY_EPOS_PASSWORD"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EposProcess:
    """One ``python -m uvicorn`` process serving the reference EPOS on a fixed loopback port."""

    def __init__(self, db_url: str, username: str, password: str, port: int | None = None,
                 log_path: Path | None = None) -> None:
        self.db_url, self.username, self.password = db_url, username, password
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 30.0) -> EposProcess:
        env = {**os.environ, "RELIABILITY_EPOS_DB": self.db_url,
               "RELIABILITY_EPOS_USER": self.username,
               "RELIABILITY_EPOS_PASSWORD": self.password,
               "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
        if self.log_path is not None and self._log is None:
            self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory",
             "tests.reliability.epos_server:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
            cwd=REPO_ROOT, env=env, stdout=self._log or subprocess.DEVNULL,
            stderr=self._log or subprocess.DEVNULL)
        async with httpx.AsyncClient(timeout=1.0) as client:
            async with asyncio.timeout(timeout):
                while True:
                    if self.proc.poll() is not None:
                        raise RuntimeError(f"EPOS process exited with {self.proc.returncode}")
                    try:
                        if (await client.get(f"{self.base_url}/healthz")).status_code == 200:
                            return self
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)

    def kill(self) -> None:
        """``kill -9``: no shutdown, no flushing, connections reset mid-request."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None
