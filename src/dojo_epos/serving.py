"""Running ASGI apps with uvicorn inside a program that runs other things too.

uvicorn's ``Server.serve`` installs its own signal handlers, which is right for one server per
process and wrong for the demo, which runs two servers and a connector in one event loop and stops
them together on Ctrl-C. :class:`Served` starts a server as a task, without the signal handlers,
binds port 0 when asked (so tests and busy machines get a free port), and stops it on request.

Every server started here (and the platform's, see :func:`dojo_epos.platform.app.uvicorn_config`)
uses :data:`HTTP_PROTOCOL`: uvicorn's own, except that a WebSocket upgrade carrying more than
:data:`MAX_UPGRADE_HEADERS` headers is answered 431 at once. uvicorn hands such a request to the
websockets library, whose header limit then leaves the socket open and unanswered. They also use
:data:`~dojo_epos.keepalive.WS_PROTOCOL`, so the platform can time and withhold WebSocket pings.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from dojo_epos.keepalive import WS_PROTOCOL

__all__ = ["HTTP_PROTOCOL", "MAX_UPGRADE_HEADERS", "Served", "port_is_free", "start_server"]

#: Most headers a WebSocket upgrade may carry (websockets itself stops at 128, without answering).
MAX_UPGRADE_HEADERS = 100

_TOO_MANY = json.dumps({"error": "request_header_fields_too_large",
                        "message": f"a WebSocket upgrade may carry at most {MAX_UPGRADE_HEADERS} "
                                   "headers"}).encode()


class _UpgradeLimit:
    headers: list[tuple[bytes, bytes]]
    transport: asyncio.Transport

    def handle_websocket_upgrade(self, *args: Any) -> None:
        if len(self.headers) > MAX_UPGRADE_HEADERS:
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                b"content-length: " + str(len(_TOO_MANY)).encode() + b"\r\nconnection: close\r\n\r\n"
                + _TOO_MANY)
            self.transport.close()
            return
        super().handle_websocket_upgrade(*args)  # type: ignore[misc]


def _http_protocol() -> type[asyncio.Protocol]:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is optional for uvicorn
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return type("BoundedUpgradeH11Protocol", (_UpgradeLimit, H11Protocol), {})
    return type("BoundedUpgradeHttpToolsProtocol", (_UpgradeLimit, HttpToolsProtocol), {})


#: The ``http`` protocol class to give uvicorn (see the module docstring).
HTTP_PROTOCOL = _http_protocol()


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
    options.setdefault("http", HTTP_PROTOCOL)
    options.setdefault("ws", WS_PROTOCOL)  # the platform's pings (harmless for an HTTP-only app)
    server = _QuietServer(uvicorn.Config(app, host=host, port=port, **options))
    task = asyncio.create_task(server.serve(), name=f"uvicorn {host}:{port}")
    while not server.started:
        if task.done():
            task.result()  # raises the start-up failure (e.g. the port is taken)
            raise RuntimeError(f"server on {host}:{port} stopped during start-up")
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return Served(server, task, host, bound)
