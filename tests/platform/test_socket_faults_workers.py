"""Socket faults and socket flows with two workers (one database, one bus): a fault set through one
worker acts on a handshake the other takes; a flow started through the worker that does not hold the
socket runs on the one that does, and a socket flow that still finds itself on the wrong worker (the
socket moved meanwhile) says so in its first step instead of measuring half of what happens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from dojo_epos.client import AsyncClient
from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.socket_faults import HANDSHAKE
from dojo_epos.platform.tester import FlowRun
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


def runs_of(worker: Worker, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Scope, str]]:
    """The flows ``worker`` runs from now on (scope, flow id), kept after they end: a short flow
    can end before the client that started it through the other worker has its answer."""
    tester, ran = worker.platform.tester, []
    run = tester._run

    def spy(scope: Scope, flow: FlowRun, stored: asyncio.Task[None]
            ) -> Coroutine[Any, Any, FlowResult]:
        ran.append((scope, flow.flow_id))  # as the run's task is made, before it is answered
        return run(scope, flow, stored)

    monkeypatch.setattr(tester, "_run", spy)
    return ran


async def test_a_socket_flow_started_through_the_other_worker_runs_where_the_socket_is(
        workers: tuple[Worker, Worker], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    a, b = workers
    on_a, on_b = runs_of(a, monkeypatch), runs_of(b, monkeypatch)
    async with epos_on(a), AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url=b.base_url) as client:
        flow_id = await client.run_flow("Keepalive", {"pings": 2, "pongWithin": 2, "idleFor": 0})
        assert (on_a, on_b) == ([(scope_of(), flow_id)], [])  # run on A, not on B
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
