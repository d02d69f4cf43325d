"""Writes of one turn of the event loop go out together, in order; close and abort come after."""

from __future__ import annotations

import asyncio
from typing import Any

from dojo_epos.write_batch import CoalescingTransport


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> Any:
        return f"extra {name}"


def wrap(fake: FakeTransport) -> CoalescingTransport:
    return CoalescingTransport(fake, asyncio.get_running_loop())  # type: ignore[arg-type]


async def test_a_turns_writes_go_out_in_one_write_at_its_end() -> None:
    fake = FakeTransport()
    transport = wrap(fake)
    transport.write(b"one ")
    transport.write(b"")
    transport.write(b"two")
    assert fake.writes == [] and transport.get_write_buffer_size() == 7
    await asyncio.sleep(0)
    assert fake.writes == [b"one two"]
    transport.write(b"three")
    await asyncio.sleep(0)
    assert fake.writes == [b"one two", b"three"]
    assert transport.get_extra_info("peername") == "extra peername"


async def test_close_writes_what_is_pending_first_and_abort_drops_it() -> None:
    fake = FakeTransport()
    transport = wrap(fake)
    transport.write(b"bye")
    transport.close()
    assert fake.writes == [b"bye"] and fake.closed
    other = FakeTransport()
    transport = wrap(other)
    transport.write(b"lost")
    transport.abort()
    await asyncio.sleep(0)
    assert other.writes == [] and other.aborted
