"""Faults: servers killed and restarted, sockets dropped mid-call, a platform that goes away and
comes back, and handlers that hang. Nothing acknowledged is lost, nothing is counted twice, every
caller gets a typed failure instead of a hang, and the connector finds its way back.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.tester_models import Status
from dojo_epos.epos.connector import ConnectorState
from dojo_epos.epos.handler import EposHandler, RequestContext
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.platform.outcome import Failure
from tests.reliability.epos_server import EposProcess
from tests.reliability.figures import FIGURES
from tests.reliability.rigs import PlatformRig, platform_rig
from tests.reliability.storm import RestRoute, Storm, StormConfig, prepare, reconcile

USER, PASSWORD = "dojo", "faults-password-3b7e"


@dataclass
class GatedHandler(EposHandler):
    """GetOrderById waits for ``release`` (a hung till); ListAreas answers at once."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        self.entered.set()
        await self.release.wait()
        return m.Order(id=params.order_id, status=m.OrderStatus("Accepted"), payable=True,
                       total_amount=m.Money(value=100, currency_code="GBP"),
                       details=m.OrderDetails(order_type=m.OrderType("DineIn"),
                                              dine_in=m.DineInDetails(table_id="T1")))

    async def list_areas(self, params: m.ListAreasParams, ctx: RequestContext) -> m.AreaList:
        return m.AreaList([m.Area(id="a1", name="Main")])


# -- kill -9 ---------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.socket
async def test_killing_epos_processes_mid_payment_loses_no_acknowledged_payment(
        pg_url: str, tmp_path: Path) -> None:
    """kill -9 each server process in turn while terminals pay; restart it; reconcile."""
    order_ids = await prepare(pg_url, 150, seed=5)
    servers = [EposProcess(pg_url, USER, PASSWORD, log_path=tmp_path / f"epos{n}.log")
               for n in range(2)]
    await asyncio.gather(*(s.start() for s in servers))
    rest = RestRoute([s.base_url for s in servers], USER, PASSWORD)
    storm = Storm([rest], order_ids, StormConfig(terminals=30, payments=1200, seed=5,
                                                 lost_answer_share=0.0))
    kills = 0

    async def killer() -> None:
        nonlocal kills
        for round_ in range(6):
            await asyncio.sleep(0.7)
            victim = servers[round_ % len(servers)]
            victim.kill()  # payments in flight on it die with it
            kills += 1
            await asyncio.sleep(0.2)
            await victim.start()

    try:
        result, _ = await asyncio.gather(storm.run(), killer())
        reckoning = await reconcile(pg_url, result, order_ids, wire=rest)
    finally:
        await rest.aclose()
        for server in servers:
            server.stop()
    FIGURES.faults_injected += kills
    FIGURES.requests_tried += result.requests
    FIGURES.payments_acknowledged += len(result.acknowledged())
    FIGURES.payments_reconciled += reckoning.stored
    FIGURES.orders_reconciled += reckoning.orders
    FIGURES.conflicts += result.conflicts
    FIGURES.retries += result.retries
    FIGURES.storm_seconds += result.seconds
    assert not result.refused, result.refused[:5]
    assert not reckoning.problems, reckoning.problems[:10]
    assert kills == 6 and result.retries > 0  # the kills did hit payments in flight


# -- the socket between connector and platform -----------------------------------------------------


@pytest.mark.socket
async def test_a_socket_dropped_mid_call_fails_the_call_cleanly_and_the_connector_returns(
        tmp_path: Path) -> None:
    """The platform drops the socket while a call waits: TransportError at once, then reconnect."""
    rig = await platform_rig(tmp_path, call_timeout=30.0)
    handler = GatedHandler()
    try:
        connector = await rig.attach(handler, "drop-house")
        scope = rig.scopes[0]
        call = asyncio.create_task(rig.platform.invoke(scope, "GetOrderById",
                                                       {"orderId": "o1", "headers": {}}))
        await handler.entered.wait()
        connection = rig.platform.gateway.connection(scope)
        assert connection is not None
        await connection.websocket.close(1011, "dropped by the test")
        FIGURES.faults_injected += 1
        outcome = await asyncio.wait_for(call, 10)  # a hang would fail here, not at 30 s
        assert outcome.failure is Failure.TRANSPORT_ERROR, outcome.summary()
        started = time.perf_counter()
        handler.release.set()
        await rig.wait_connected(connector, scope)
        FIGURES.reconnect_seconds.append(time.perf_counter() - started)
        again = await rig.platform.invoke(scope, "ListAreas", {"headers": {}})
        assert again.ok, again.summary()
    finally:
        handler.release.set()
        await rig.aclose()


@pytest.mark.socket
async def test_a_platform_that_stops_and_comes_back_gets_its_connector_back(tmp_path: Path) -> None:
    """Stop the platform (calls in flight fail typed), start a new one on the same port: the
    connector reconnects by itself, and calls work again."""
    rig = await platform_rig(tmp_path, call_timeout=30.0)
    handler = GatedHandler()
    second: PlatformRig | None = None
    try:
        connector = await rig.attach(handler, "restart-house")
        scope = rig.scopes[0]
        call = asyncio.create_task(rig.platform.invoke(scope, "GetOrderById",
                                                       {"orderId": "o1", "headers": {}}))
        await handler.entered.wait()
        port = rig.server.port
        await rig.server.stop()
        FIGURES.faults_injected += 1
        outcome = await asyncio.wait_for(call, 10)
        assert outcome.failure is Failure.TRANSPORT_ERROR, outcome.summary()
        handler.release.set()
        async with asyncio.timeout(10):
            while connector.state is ConnectorState.CONNECTED:
                await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)  # the platform stays away for a while; the connector backs off
        assert connector.state.value != ConnectorState.CONNECTED.value
        # A new platform process would start on the same port with the same database.
        second = await platform_rig(tmp_path, call_timeout=5.0, port=port)
        await second.platform.registry.put_ws(
            _caller(scope), {"capabilities": [{"name": "GetOrderById", "version": "v1"},
                                              {"name": "ListAreas", "version": "v1"}]})
        started = time.perf_counter()
        await second.wait_connected(connector, scope)
        FIGURES.reconnect_seconds.append(time.perf_counter() - started)
        again = await second.platform.invoke(scope, "ListAreas", {"headers": {}})
        assert again.ok, again.summary()
    finally:
        handler.release.set()
        await rig.aclose()
        if second is not None:
            await second.server.stop()
            await second.platform.close()


def _caller(scope: Any) -> Any:
    from dojo_epos.platform.accounts import Caller

    return Caller(scope)


# -- flows never hang ------------------------------------------------------------------------------


@pytest.mark.socket
async def test_flows_against_a_hung_or_absent_epos_end_timed_out_or_failed(tmp_path: Path) -> None:
    """A flow whose EPOS never answers, and one whose EPOS is gone, both end, typed."""
    rig = await platform_rig(tmp_path, call_timeout=0.3, flow_timeout=20.0)
    handler = GatedHandler()
    try:
        connector = await rig.attach(handler, "flow-house")
        scope = rig.scopes[0]
        hung = await rig.platform.tester.start(scope, "Get Order", {"orderId": "o1"})
        result = await asyncio.wait_for(rig.platform.tester.wait(scope, hung), 15)
        assert result is not None and result.status in (Status.TIMED_OUT, Status.FAILURE)
        FIGURES.faults_injected += 1
        handler.release.set()
        await connector.stop()
        gone = await rig.platform.tester.start(scope, "List Areas", {})
        result = await asyncio.wait_for(rig.platform.tester.wait(scope, gone), 15)
        assert result is not None and result.status in (Status.TIMED_OUT, Status.FAILURE)
        FIGURES.faults_injected += 1
    finally:
        handler.release.set()
        await rig.aclose()


# -- slow handlers ---------------------------------------------------------------------------------


async def test_a_slow_request_on_the_connector_does_not_stall_the_others(tmp_path: Path) -> None:
    """While GetOrderById hangs, ListAreas on the same socket is answered."""
    rig = await platform_rig(tmp_path, call_timeout=30.0)
    handler = GatedHandler()
    try:
        await rig.attach(handler, "slow-house")
        scope = rig.scopes[0]
        slow = asyncio.create_task(rig.platform.invoke(scope, "GetOrderById",
                                                       {"orderId": "o1", "headers": {}}))
        await handler.entered.wait()
        for _ in range(5):
            fast = await rig.platform.invoke(scope, "ListAreas", {"headers": {}})
            assert fast.ok, fast.summary()
        assert not slow.done()
        FIGURES.faults_injected += 1
        handler.release.set()
        assert (await slow).ok
    finally:
        handler.release.set()
        await rig.aclose()


@pytest.mark.socket
async def test_a_slow_request_on_the_rest_app_does_not_stall_the_others(serve: Any) -> None:
    """The same over REST, on a real server: one hung request, others answered meanwhile."""
    handler = GatedHandler()
    server = await serve(build_rest_app(handler, username=USER, password=PASSWORD))
    async with httpx.AsyncClient(base_url=server.base_url, auth=(USER, PASSWORD)) as http:
        slow = asyncio.create_task(http.get("/v1/orders/o1", timeout=30))
        await handler.entered.wait()
        for _ in range(5):
            assert (await http.get("/v1/areas", timeout=10)).status_code == 200
        assert not slow.done()
        FIGURES.faults_injected += 1
        handler.release.set()
        assert (await slow).status_code == 200
