"""The lean asyncio primitives the sockets keep: a signal and a queue with no containers up front."""

from __future__ import annotations

import asyncio

import pytest

from dojo_epos.lean_async import LeanQueue, Signal


async def test_signal_wakes_every_waiter_and_stays_set() -> None:
    signal = Signal()
    waiters = [asyncio.ensure_future(signal.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    signal.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert signal.is_set() and await signal.wait()
    signal.clear()
    assert not signal.is_set()


async def test_signal_forgets_a_cancelled_waiter() -> None:
    signal = Signal()
    waiter = signal.waiter()
    waiter.cancel()
    await asyncio.sleep(0)
    assert not signal._waiters
    signal.set()


async def test_queue_is_fifo_and_wakes_getters_in_order() -> None:
    queue: LeanQueue[int] = LeanQueue()
    assert queue.empty() and queue.qsize() == 0
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
    first = asyncio.ensure_future(queue.get())
    second = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait(1)
    queue.put_nowait(2)
    queue.put_nowait(3)
    assert (await first, await second) == (1, 2)
    assert queue.qsize() == 1 and queue.get_nowait() == 3


async def test_a_getter_cancelled_after_its_wake_up_passes_it_on() -> None:
    queue: LeanQueue[str] = LeanQueue()
    first = asyncio.ensure_future(queue.get())
    second = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("a")  # wakes the first getter...
    first.cancel()  # ...which is cancelled before it runs
    assert await second == "a"
    assert first.cancelled()
