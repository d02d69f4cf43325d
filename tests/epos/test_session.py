"""One connector socket: requests answered in their own tasks, replies written while others wait."""

from __future__ import annotations

import asyncio
import json

from dojo_epos.contract.jsonrpc import DEFAULT_MAX_FRAME_BYTES
from dojo_epos.epos.handler import EposHandler
from dojo_epos.epos.session import READ_BURST, ConnectorStats, Session
from dojo_epos.testing import MemoryWebSocket, memory_socket_pair


class Watched:
    """The connector's end of the pair, noting each frame read and each reply written, in order."""

    def __init__(self, end: MemoryWebSocket, seen: list[str]) -> None:
        self.end, self.seen = end, seen

    async def recv(self) -> str | bytes:
        frame = await self.end.recv()
        self.seen.append("read")
        return frame

    async def send(self, message: str) -> None:
        self.seen.append("reply")
        await self.end.send(message)

    async def close(self) -> None:
        await self.end.close()


async def test_replies_leave_while_later_requests_of_a_burst_are_still_unread() -> None:
    # Reading every frame that had arrived before answering any made the gateway and the
    # connector take turns, each idle while the other worked (half the throughput at 32 in
    # flight). The read loop yields to the answers every READ_BURST requests.
    dojo, epos = memory_socket_pair()
    seen: list[str] = []
    total = 4 * READ_BURST
    for n in range(total):
        await dojo.send(json.dumps({"jsonrpc": "2.0", "id": f"r{n}", "method": "GetOrderByIdV1",
                                    "params": {"orderId": f"ord_{n}", "headers": {}}}))
    session = Session(EposHandler(), ConnectorStats(), Watched(epos, seen),
                      max_concurrency=total, max_frame_bytes=DEFAULT_MAX_FRAME_BYTES)
    reading = asyncio.create_task(session.read_loop())
    try:
        replies = [json.loads(await asyncio.wait_for(dojo.recv(), 5)) for _ in range(total)]
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
    # Every request answered once (this handler offers nothing: each answer is an error reply).
    assert sorted(r["id"] for r in replies) == sorted(f"r{n}" for n in range(total))
    assert all("error" in r for r in replies)
    read_before_first_reply = seen[: seen.index("reply")].count("read")
    # Not all of them (the old loop read the whole burst first), and not much more than one burst.
    assert read_before_first_reply <= 2 * READ_BURST < total, seen
