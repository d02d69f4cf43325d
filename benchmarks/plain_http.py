"""A bare asyncio HTTP/1.1 client with keep-alive, for load generators that must cost little.

httpx spends a few hundred microseconds of CPU a request; where the load generator shares the
machine's cores with what it measures (the workers benchmark), that CPU is taken from the
platform. This client sends a request and reads a ``Content-Length`` answer, nothing else: no
redirects, no chunked bodies, no TLS. Not for anything but a benchmark's own load.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

__all__ = ["PlainClient"]

#: A connection idle this long is not reused (uvicorn closes idle ones after 5 s).
IDLE_LIMIT = 4.0


class PlainClient:
    """Requests to ``host:port`` with ``headers`` on each, over a pool of kept-alive connections
    (a new one whenever none is idle, as a browser or httpx would). A kept-alive connection that
    turns out closed before any byte of the answer came is replaced, the request sent again on a
    new one (the server closed it idle: it had not read the request)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in
                            {"host": f"{host}:{port}", **headers}.items()).encode()
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send ``body`` (JSON, when not None); returns the status and the decoded JSON answer."""
        payload = json.dumps(body).encode() if body is not None else b""
        message = (f"{method} {path} HTTP/1.1\r\n".encode() + self.head
                   + (b"content-type: application/json\r\n" if body is not None else b"")
                   + b"content-length: %d\r\n\r\n" % len(payload) + payload)
        while self._idle:
            reader, writer, since = self._idle.pop()
            if time.monotonic() - since < IDLE_LIMIT:
                try:  # a kept-alive connection the server closed meanwhile fails at once
                    return await self._exchange(reader, writer, message)
                except (asyncio.IncompleteReadError, ConnectionError) as exc:
                    if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                        raise
            else:
                writer.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return await self._exchange(reader, writer, message)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        message: bytes) -> tuple[int, Any]:
        try:
            writer.write(message)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
                elif name.strip().lower() == "transfer-encoding":
                    raise RuntimeError("PlainClient reads Content-Length answers only")
            data = await reader.readexactly(length) if length else b""
        except BaseException:
            writer.close()
            raise
        self._idle.append((reader, writer, time.monotonic()))
        return status, json.loads(data) if data else None

    async def aclose(self) -> None:
        for _reader, writer, _since in self._idle:
            writer.close()
        self._idle.clear()
