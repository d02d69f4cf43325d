"""compose.yaml's services run as local processes, in its order, with its commands and environment.

No container engine is needed: each service of our image runs as ``dojo-epos COMMAND`` (the image's
entry point) with the service's environment, its ``${VAR:-default}`` settings at their defaults. Only
what only an engine provides is replaced: the service names resolve to 127.0.0.1, the ports are free
ones, ``--host 0.0.0.0`` binds loopback, and the PostgreSQL service is the test server, with fresh
databases standing for the ones compose creates. The health checks are the file's own commands; the
one-shot services must exit 0; then Pay at Table runs against what they set up, with the register
service's account, and must succeed.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import make_url

from tests.packaging.test_container import ours, services
from tests.processes import DOJO_EPOS, Background, clean_env, free_port

# About 15 s (four processes and two databases): in `make reliability`, not in CI's `make test`.
pytestmark = [pytest.mark.socket, pytest.mark.postgres, pytest.mark.slow]

DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")
PG_URL = os.environ.get("DOJO_EPOS_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _admin(sql: str) -> None:
    import asyncpg

    dsn = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def databases() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database for each one compose's PostgreSQL creates; name -> URL."""
    tag = uuid.uuid4().hex[:8]
    names = {"platform": f"dojo_epos_compose_{tag}_platform", "epos": f"dojo_epos_compose_{tag}_epos"}
    try:
        for name in names.values():
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    yield {key: make_url(PG_URL).set(drivername="postgresql", database=name)
           .render_as_string(hide_password=False) for key, name in names.items()}
    for name in names.values():
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Local:
    """Compose's addresses mapped onto this machine: service names, ports and databases."""

    def __init__(self, databases: dict[str, str]) -> None:
        self.ports = {name: free_port() for name, s in ours().items() if "--port" in s["command"]}
        self.databases = databases

    def value(self, text: str) -> str:
        text = DEFAULT.sub(lambda m: m.group(2), text)
        if text.startswith("postgresql://"):
            return self.databases[urlsplit(text).path.lstrip("/")]
        for name, port in self.ports.items():
            listening = ours()[name]["command"]
            text = text.replace(f"{name}:{listening[listening.index('--port') + 1]}", f"127.0.0.1:{port}")
        return text

    def command(self, name: str) -> list[str]:
        argv = [self.value(a) for a in ours()[name]["command"]]
        if "--port" in argv:
            argv[argv.index("--port") + 1] = str(self.ports[name])
        return ["127.0.0.1" if a == "0.0.0.0" else a for a in argv]

    def env(self, name: str) -> dict[str, str]:
        return clean_env(**{k: self.value(str(v)) for k, v in ours()[name].get("environment", {}).items()})

    def healthy(self, name: str, timeout: float = 60) -> None:
        """Run the service's own health check (its port mapped) until it passes."""
        test: list[str] = ours()[name]["healthcheck"]["test"]
        assert test[:2] == ["CMD", "python"]
        port = self.ports[name]
        check = [sys.executable, *(re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", a) for a in test[2:])]
        deadline = time.monotonic() + timeout
        while subprocess.run(check, capture_output=True, timeout=30, check=False).returncode != 0:
            assert time.monotonic() < deadline, f"{name} never passed its health check"
            time.sleep(0.2)


def order() -> list[str]:
    """Our services in an order that honours depends_on (the PostgreSQL service is already up)."""
    left, done = dict(ours()), ["postgres"]
    while left:
        ready = [n for n, s in left.items() if set(s.get("depends_on", {})) <= set(done)]
        assert ready, f"depends_on has a cycle among {sorted(left)}"
        done += ready
        for name in ready:
            del left[name]
    return done[1:]


def test_the_compose_services_run_and_pay_at_table_succeeds(databases: dict[str, str]) -> None:
    assert services()["postgres"]["environment"]["POSTGRES_DB"] in databases
    local = Local(databases)
    running: list[Background] = []
    try:
        for name in order():
            service: dict[str, Any] = ours()[name]
            argv, env = [DOJO_EPOS, *local.command(name)], local.env(name)
            if service.get("restart") == "no":  # a one-shot service: it must finish, and say so
                ran = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120,
                                     check=False)
                assert ran.returncode == 0, f"{name}: {ran.stdout}{ran.stderr}"
                continue
            running.append(Background(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                                       stderr=subprocess.STDOUT, text=True)))
            local.healthy(name)
        flow = subprocess.run([DOJO_EPOS, "flows", "run", "Pay at Table", "--wait"],
                              env=local.env("register"),
                              capture_output=True, text=True, timeout=120, check=False)
        assert flow.returncode == 0, flow.stdout + flow.stderr
        assert "Pay at Table through EPOS Data API: SUCCESS" in flow.stdout
    finally:
        for process in running:
            process.stop()
