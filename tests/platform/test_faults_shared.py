"""Faults shared by every worker (issue 16): set through one worker, acted out where the socket is,
counted down once in all. Two workers on one SQLite file and one bus (memory and NATS), as in
:mod:`tests.platform.test_routing`; on PostgreSQL, the countdown itself under a race."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from dojo_epos.platform import Platform, PlatformSettings
from dojo_epos.platform.faults import Fault, FaultKind
from dojo_epos.platform.faultstore import FaultStore
from dojo_epos.platform.store import Store
from tests.platform.conftest import auth_headers, scope_of
from tests.platform.test_gateway import WsEpos, answer_orders, wait_for
from tests.platform.test_routing import Worker, put_ws, workers  # noqa: F401  (fixture)
from tests.platform.test_store_postgres import pg_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.socket

FAULTS = "/epos-tester-tool/faults"


async def set_fault(worker: Worker, **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=worker.base_url) as client:
        response = await client.post(FAULTS, json=body, headers=auth_headers())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_fault_set_through_one_worker_acts_on_the_socket_another_holds(
        workers: tuple[Worker, Worker]) -> None:  # noqa: F811
    """Set on B, the socket on A: a call made through B and one made through A both deliver
    twice (the routed call carries its faults); clearing through A clears B's copy."""
    a, b = workers
    await put_ws(a, ["GetOrderById"])
    twice = await set_fault(b, kind="deliver-twice", capability="GetOrderById")
    await wait_for(lambda: bool(a.platform.faults.of(scope_of())))  # the notice reached A
    async with connect(a.ws_url, additional_headers=auth_headers()) as ws:
        epos = WsEpos(ws, answer_orders)
        await wait_for(a.holds)
        through_b = await b.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
        through_a = await a.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
        await wait_for(lambda: len(epos.received) == 4)
        epos.task.cancel()
    assert through_b.ok and through_a.ok, (through_b.detail, through_a.detail)
    ids = [m["id"] for m in epos.received]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    assert not b.holds()
    assert (through_b.detail or "").startswith(f"fault {twice['id']} (deliver-twice")
    assert (through_a.detail or "").startswith(f"fault {twice['id']} (deliver-twice")

    async with httpx.AsyncClient(base_url=a.base_url) as client:
        cleared = await client.delete(FAULTS, headers=auth_headers())
    assert cleared.json() == {"cleared": 1}
    await wait_for(lambda: not b.platform.faults.has(scope_of()))


async def test_times_count_down_once_in_all_across_workers(workers: tuple[Worker, Worker]) -> None:  # noqa: F811
    """A delay fault with times=3 and twelve calls at once through both workers: exactly three
    calls carry it, and it is gone from both workers' books and from the database."""
    a, b = workers
    await put_ws(a, ["GetOrderById"])
    slow = await set_fault(a, kind="delay", delay=0.05, times=3)
    await wait_for(lambda: b.platform.faults.has(scope_of()))
    async with connect(a.ws_url, additional_headers=auth_headers()) as ws:
        epos = WsEpos(ws, answer_orders)
        await wait_for(a.holds)
        outcomes = await asyncio.gather(*[
            worker.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
            for worker in (a, b) * 6])
        epos.task.cancel()
    assert all(o.ok for o in outcomes), [o.detail for o in outcomes]
    faulted = [o for o in outcomes if slow["id"] in (o.detail or "")]
    assert len(faulted) == 3
    await wait_for(lambda: not a.platform.faults.has(scope_of())
                   and not b.platform.faults.has(scope_of()))
    assert await FaultStore(a.platform.store).load() == {}


async def test_faults_survive_a_restart_and_reach_a_worker_started_later(tmp_path: Any) -> None:
    """The book is in the database: a platform started afterwards on the same file has it."""
    url = f"sqlite:///{tmp_path / 'platform.sqlite3'}"
    first = Platform(PlatformSettings(db_url=url))
    await first.start()
    stored = await first.faults.put(scope_of(), Fault(FaultKind.REST_RESET, times=2))
    await first.close()
    second = Platform(PlatformSettings(db_url=url))
    await second.start()
    try:
        assert second.faults.of(scope_of()) == [stored]
    finally:
        await second.close()


@pytest.mark.postgres
async def test_the_countdown_is_atomic_on_postgres(pg_url: str) -> None:  # noqa: F811
    """Twenty claims at once, from two stores (two workers' pools), on times=5: five succeed."""
    stores = [Store(pg_url), Store(pg_url)]
    try:
        shared = [FaultStore(s) for s in stores]
        fault = Fault(FaultKind.REST_RESET, times=5, id="f-race")
        await shared[0].insert(scope_of(), fault)
        claims = await asyncio.gather(*[shared[i % 2].claim(scope_of(), "f-race")
                                        for i in range(20)])
        assert claims.count(True) == 5
        assert await shared[1].load() == {}
    finally:
        for store in stores:
            await store.close()
