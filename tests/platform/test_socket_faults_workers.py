"""Socket faults and socket flows with two workers (one database, one bus): a fault set through one
worker acts on a handshake the other takes; a flow started through the worker that does not hold the
socket runs on the one that does, and a socket flow that still finds itself on the wrong worker (the
socket moved meanwhile) says so in its first step instead of measuring half of what happens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from dojo_epos.client import AsyncClient
from dojo_epos.contract.tester_models import Status
from dojo_epos.platform.socket_faults import HANDSHAKE
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, auth_headers, scope_of
from tests.platform.test_gateway import WsEpos, answer_orders, wait_for
from tests.platform.test_routing import Worker, put_ws, workers  # noqa: F401 (the fixture)

pytestmark = pytest.mark.socket


async def test_a_refuse_handshake_set_on_one_worker_refuses_on_the_other(
        workers: tuple[Worker, Worker]) -> None:  # noqa: F811 (the fixture imported above)
    a, b = workers
    async with AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url=b.base_url) as client:
        await client.add_fault("refuse-handshake", status=503, times=1)
    await wait_for(lambda: bool(a.platform.invoker.faults.of(scope_of())))  # the notice reached A
    with pytest.raises(InvalidStatus) as info:
        async with connect(a.ws_url, additional_headers=auth_headers()):
            pass
    assert info.value.response.status_code == 503
    assert [c.capability for c in a.platform.invoker.calls.recent(scope_of())] == [HANDSHAKE]


@asynccontextmanager
async def epos_on(worker: Worker) -> AsyncIterator[WsEpos]:
    """A plain-websockets EPOS registered over WebSocket and connected to ``worker``."""
    await put_ws(worker, ["GetOrderById"])
    async with connect(worker.ws_url, additional_headers=auth_headers()) as ws:
        epos = WsEpos(ws, answer_orders)
        await wait_for(worker.holds)
        try:
            yield epos
        finally:
            epos.task.cancel()


async def test_a_socket_flow_started_through_the_other_worker_runs_where_the_socket_is(
        workers: tuple[Worker, Worker]) -> None:  # noqa: F811
    a, b = workers
    async with epos_on(a), AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url=b.base_url) as client:
        flow_id = await client.run_flow("Keepalive", {"pings": 2, "pongWithin": 2, "idleFor": 0})
        assert (scope_of(), flow_id) in a.platform.tester._tasks  # started on A...
        assert (scope_of(), flow_id) not in b.platform.tester._tasks  # ...not on B
        # On the in-process bus B reads the run from the store: wait for A's start record.
        await a.platform.tester.settled()
        result = await b.platform.tester.wait(scope_of(), flow_id)
        followed = await client.get_flow_result(flow_id)  # B answers: A's snapshot or the store
    assert result is not None and result.status is Status.SUCCESS, result
    assert followed.status is Status.SUCCESS


async def test_a_socket_flow_that_finds_the_socket_on_another_worker_fails_its_first_step_saying_so(
        workers: tuple[Worker, Worker]) -> None:  # noqa: F811
    a, b = workers
    async with epos_on(a):
        # forwarded=True: as if the socket had moved to A after B was asked to start the run
        flow_id = await b.platform.tester.start(scope_of(), "Reconnect", {}, forwarded=True)
        result = await b.platform.tester.wait(scope_of(), flow_id)
    assert result is not None and result.status is Status.FAILURE
    [first] = result.steps
    assert first.status is Status.FAILURE
    assert "held by another platform worker" in " ".join(first.additional_information)
