"""A transport that writes everything one turn of the event loop produced with one system call.

uvicorn's WebSocket protocol writes each frame as it is sent (``transport.write`` per message), and
with many calls in flight the gateway sends many requests in the same turn of the loop: each was a
``send`` system call of its own (15% of the platform's time at 32 calls in flight, py-spy of the
WebSocket benchmark). :class:`CoalescingTransport` stands in for the socket's transport in
:class:`~dojo_epos.keepalive.KeepaliveProtocol`: the first write of a turn schedules a flush at the
end of that turn (``loop.call_soon``), later writes join it, and the flush writes them all at once,
in order. Nothing waits longer than the turn that wrote it; a close, an end of stream or an abort
flushes (or drops) what is pending first. Flow control is the real transport's, unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["CoalescingTransport"]


class CoalescingTransport:
    """Wraps an :class:`asyncio.Transport`; ``write`` is batched per turn, the rest delegated."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._pending is None:
            self._pending = [bytes(data)]
            self._loop.call_soon(self.flush)
        else:
            self._pending.append(bytes(data))

    def flush(self) -> None:
        """Write what is pending now (the end of the turn does it by itself)."""
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        pending = sum(len(data) for data in self._pending or ())
        return pending + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
