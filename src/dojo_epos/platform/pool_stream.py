"""The platform's HTTP connections to EPOSes, with a cheap "is the idle socket readable?" check.

httpcore's connection pool asks every pooled connection whether it has expired each time a request
joins or leaves the pool, and for an idle connection that means asking its stream
``get_extra_info("is_readable")`` (a server that closed a kept-alive connection makes the socket
readable). On anyio's stream that question first looks the raw socket up through anyio's typed
attributes, which build a mapping of every attribute, a ``getpeername`` among them, per question:
with 32 calls in flight to one EPOS, the pool spent a seventh of the platform's event loop there
(``ws.invoke_over_rest``, py-spy; httpcore#928 and httpx#3215 describe the same pool cost).

:class:`QuickReadableStream` wraps the stream the backend connected and answers ``is_readable``
from the raw socket it looked up once, with httpcore's own :func:`is_socket_readable` (a poll
with no wait): the same answer, without the lookup. Every other call goes to the wrapped stream;
``start_tls`` wraps the TLS stream it returns (whose raw socket is the same).
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

import httpcore

# httpcore's own check, from its private module: tests/platform/test_pool_stream.py fails if it moves.
from httpcore._utils import is_socket_readable

__all__ = ["QuickReadableStream"]


class QuickReadableStream(httpcore.AsyncNetworkStream):
    """``inner`` with ``get_extra_info("is_readable")`` answered from its raw socket."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self.inner = inner
        # asyncio hands out its transport's socket as a TransportSocket: a socket to ask, not own.
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self.inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self.inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return QuickReadableStream(await self.inner.start_tls(ssl_context, server_hostname,
                                                              timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return is_socket_readable(self._socket)
        return self.inner.get_extra_info(info)
