"""Running ASGI apps with uvicorn inside a program that runs other things too.

uvicorn's ``Server.serve`` installs its own signal handlers, which is right for one server per
process and wrong for the demo, which runs two servers and a connector in one event loop and stops
them together on Ctrl-C. :class:`Served` starts a server as a task, without the signal handlers,
binds port 0 when asked (so tests and busy machines get a free port), and stops it on request.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

__all__ = ["Served", "port_is_free", "start_server"]


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the caller handles Ctrl-C for everything
        yield


@dataclass
class Served:
    """A running server: where it listens, and how to stop it."""

    server: uvicorn.Server
    task: asyncio.Task[None]
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def port_is_free(host: str, port: int) -> bool:
    """Whether ``port`` can be bound on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def start_server(app: Any, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Served:
    """Start ``app`` on ``host:port`` (0 = any free port) and return once it is listening."""
    options.setdefault("log_level", "warning")
    options.setdefault("access_log", False)
    server = _QuietServer(uvicorn.Config(app, host=host, port=port, **options))
    task = asyncio.create_task(server.serve(), name=f"uvicorn {host}:{port}")
    while not server.started:
        if task.done():
            task.result()  # raises the start-up failure (e.g. the port is taken)
            raise RuntimeError(f"server on {host}:{port} stopped during start-up")
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return Served(server, task, host, bound)
