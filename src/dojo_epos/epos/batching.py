"""The connector's websockets connection: several replies in one write.

With many calls in flight, several answers are ready in the same turn of the event loop. websockets
writes every frame with a system call of its own (``transport.write`` per frame: a third of the
connector's time at 32 calls in flight, py-spy of the WebSocket benchmark). :class:`BatchingConnection`
is websockets' own client connection with :meth:`~BatchingConnection.send_texts`: the frames of
several messages serialized by the same protocol, in the same order, and written to the socket at
once. Everything else (handshake, pings, flow control, close) is websockets' unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from websockets.asyncio.client import ClientConnection

__all__ = ["BatchingConnection"]


class BatchingConnection(ClientConnection):
    """websockets' :class:`~websockets.asyncio.client.ClientConnection` plus :meth:`send_texts`."""

    async def send_texts(self, texts: Sequence[str]) -> None:
        """Send each text as one text message, in order, with one write to the socket.

        Raises ``ConnectionClosed`` like :meth:`send` (which it is, for one text)."""
        while self.send_in_progress is not None:  # a fragmented message is being sent
            await asyncio.shield(self.send_in_progress)
        async with self.send_context():
            for text in texts:
                self.protocol.send_text(text.encode())

    def send_data(self) -> None:
        chunks = self.protocol.data_to_send()
        if len(chunks) > 1 and all(chunks):
            self.transport.write(b"".join(chunks))
            return
        # One chunk, or an end-of-stream marker among them: websockets' own handling. The
        # chunks were taken from the protocol above, so hand them back first.
        self.protocol.writes[:0] = chunks
        super().send_data()
