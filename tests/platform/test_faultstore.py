"""The shared fault book: two books (two workers' caches) on one database table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.fault_book import FaultBook
from dojo_epos.platform.faults import WEBHOOK, Fault, FaultError, FaultKind
from dojo_epos.platform.faultstore import FaultStore
from dojo_epos.platform.store import Store
from tests.platform.conftest import SANDBOX_KEY, scope_of

A, B = scope_of(), scope_of(SANDBOX_KEY, "another-house")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'platform.sqlite3'}")
    yield opened
    await opened.close()


def two_books(store: Store) -> tuple[FaultBook, FaultBook, list[str]]:
    """Two workers' books, each telling the other of its changes (what the bus does)."""
    told: list[str] = []
    first, second = FaultBook(FaultStore(store)), FaultBook(FaultStore(store))

    async def tell_second() -> None:
        told.append("second")
        await second.reload()

    async def tell_first() -> None:
        told.append("first")
        await first.reload()

    first.notify, second.notify = tell_second, tell_first
    return first, second, told


async def test_a_fault_put_through_one_book_is_in_the_other_and_in_no_other_scope(
        store: Store) -> None:
    first, second, told = two_books(store)
    stored = await first.put(A, Fault(FaultKind.REST_RESET, capability="GetOrder"))
    assert told == ["second"] and second.of(A) == [stored] and not second.has(B)
    assert await second.remove(A, stored.id) == 1
    assert first.of(A) == [] and await FaultStore(store).load() == {}


async def test_the_synchronous_api_writes_in_the_background(store: Store) -> None:
    """add/clear act on the cache at once (the flows' way) and reach the table after a flush;
    a reload meanwhile keeps what is not written yet."""
    first, second, _ = two_books(store)
    added = first.add(A, Fault(FaultKind.NEVER_ANSWER))
    await first.reload()  # before the writer ran: the pending add still counts
    assert first.of(A) == [added]
    await first.flush()
    assert second.of(A) == [added]
    assert first.clear(A) == 1 and first.of(A) == []
    await first.flush()
    assert second.of(A) == [] and await FaultStore(store).load() == {}


async def test_times_is_counted_once_in_all_and_a_stale_copy_does_not_fire(store: Store) -> None:
    first, second, _ = two_books(store)
    second.notify = None  # second never hears of first's firings: its copy goes stale
    first.notify = None
    await first.put(A, Fault(FaultKind.DELAY, delay=0.1, times=2))
    await second.reload()
    fired = await asyncio.gather(*[book.take_call(A, "GetOrderById", "ws")
                                   for book in (first, second) * 4])
    assert sum(len(f) for f in fired) == 2
    assert not first.has(A) and not second.has(A)  # each learnt from the table it was used up
    assert await FaultStore(store).load() == {}


class Counting(FaultStore):
    """A FaultStore that counts the queries made of it."""

    queries = 0

    async def claim(self, scope: Scope, fault_id: str) -> bool:
        self.queries += 1
        return await super().claim(scope, fault_id)

    async def load(self) -> dict[Scope, list[Fault]]:
        self.queries += 1
        return await super().load()


async def test_an_uncounted_fault_and_no_fault_cost_no_query(store: Store) -> None:
    backend = Counting(store)
    book = FaultBook(backend)
    assert not book.has(A)  # what the invoker asks before anything else: a dict lookup
    await book.put(A, Fault(FaultKind.WEBHOOK_DROP))
    for _ in range(3):
        [fault] = await book.take_call(A, None, WEBHOOK)
        assert fault.kind is FaultKind.WEBHOOK_DROP
    assert await book.take_call(A, "GetOrderById", "ws") == []
    assert backend.queries == 0
    await book.put(A, Fault(FaultKind.REST_RESET, times=1))
    assert len(await book.take_call(A, "GetOrderById", "rest")) == 1 and backend.queries == 1


def test_a_fault_round_trips_through_its_json_and_bad_json_names_the_field() -> None:
    fault = FaultBook().add(A, Fault(FaultKind.DELAY, capability="GetOrderById", delay=0.5,
                                     delay_max=1.5, times=3))
    assert Fault.from_wire(fault.to_wire()) == fault
    for body, field in [({"kind": "delay", "delay": True}, "delay"),
                        ({"kind": "close", "closeCode": 4000.0}, "closeCode"),
                        ({"kind": 7}, "kind"), ({"kind": "delay", "when": 1}, "when"),
                        ({"kind": "delay", "capability": 12}, "capability")]:
        with pytest.raises(FaultError, match=f"^{field}:"):
            Fault.from_wire(body)
