"""Processes: the benchmarks put servers, clients and load generators in separate processes, so
each gets its own interpreter (and core) and a measurement never shares an event loop with what it
measures.

Parent side: :class:`Child` starts ``python -m <module> <role> <json args>`` and talks to it with
one JSON object per line (child stdout -> parent, parent -> child stdin).

Child side: :func:`child_main` dispatches on the role, :func:`emit` writes a line, :func:`command`
waits for one, and :func:`serve_app` runs an ASGI app on uvicorn on a port the OS picks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import socket
import sys
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Child",
    "ChildFailed",
    "child_main",
    "command",
    "emit",
    "raise_fd_limit",
    "rss_mb",
    "Served",
    "serve_app",
]

ROOT = Path(__file__).resolve().parent.parent


class ChildFailed(RuntimeError):
    """A child process exited or said something unexpected."""


class Child:
    """A benchmark child process speaking JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process, label: str) -> None:
        self.proc = proc
        self.label = label

    @classmethod
    async def start(cls, module: str, role: str, args: Mapping[str, Any] | None = None,
                    env: Mapping[str, str] | None = None) -> Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, role, json.dumps(dict(args or {})),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=str(ROOT),
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
            limit=16 * 1024 * 1024)
        return cls(proc, f"{module} {role}")

    async def read(self, timeout: float = 120.0) -> dict[str, Any]:
        """The child's next JSON line (ChildFailed if it ends first or says ``error``)."""
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except TimeoutError:
            raise ChildFailed(f"{self.label}: no answer within {timeout:g} s") from None
        if not line:
            code = await self.proc.wait()
            raise ChildFailed(f"{self.label}: exited with code {code} (its stderr is above)")
        message: dict[str, Any] = json.loads(line)
        if "error" in message:
            raise ChildFailed(f"{self.label}: {message['error']}")
        return message

    async def send(self, message: Mapping[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(dict(message)).encode() + b"\n")
        await self.proc.stdin.drain()

    async def stop(self, timeout: float = 10.0) -> None:
        """Ask politely (close stdin, SIGTERM), then insist."""
        if self.proc.returncode is not None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()


# -- child side ------------------------------------------------------------------------------------


def emit(message: Mapping[str, Any]) -> None:
    """Send one JSON line to the parent."""
    sys.stdout.write(json.dumps(dict(message)) + "\n")
    sys.stdout.flush()


async def command() -> dict[str, Any]:
    """The parent's next JSON line ({} when the parent closed stdin)."""
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return json.loads(line) if line.strip() else {}


def child_main(roles: Mapping[str, Callable[[dict[str, Any]], Coroutine[Any, Any, None]]]) -> None:
    """Entry point of a module run as a child: ``python -m module <role> <json args>``."""
    role, raw = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}"
    try:
        asyncio.run(roles[role](json.loads(raw)))
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        emit({"error": f"{type(exc).__name__}: {exc}"})
        raise


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def rss_mb() -> float:
    """This process's resident memory in MiB, from /proc (no psutil needed)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


@dataclass
class Served:
    """A running uvicorn server and its port."""

    server: Any
    task: asyncio.Future[None]
    port: int

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 10)


async def serve_app(app: Any, *, lifespan: Literal["auto", "on", "off"] = "off",
                    keep_alive: float = 5.0, ws: Any = "auto") -> Served:
    """Start uvicorn (one worker, no access log) for ``app`` on 127.0.0.1 and a free port.

    ``keep_alive`` is uvicorn's idle keep-alive timeout in seconds; ``ws`` is uvicorn's WebSocket
    protocol: the platform's children pass :data:`dojo_epos.keepalive.WS_PROTOCOL`, the protocol
    every way of serving the platform uses."""
    import uvicorn

    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # accepted sockets inherit it; with proto 0 every answer would wait ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan=lifespan,
                            ws_ping_interval=None, ws_ping_timeout=None, backlog=4096,
                            timeout_keep_alive=keep_alive, ws=ws)
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise ChildFailed("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    return Served(server, task, sock.getsockname()[1])
