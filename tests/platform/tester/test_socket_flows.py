"""The socket resilience flows on real loopback sockets: our connector (over the reference EPOS on
SQLite and PostgreSQL) passes each one, and each fails at the right step against an EPOS with broken
socket manners written with plain websockets. Bounds are small (flow parameters) to keep CI short."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from dojo_epos.client import AsyncClient, PlatformApiError
from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.epos.connector import Connector, ConnectorGaveUp, ConnectorState
from dojo_epos.epos.reference import open_reference
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.tester.flows import SOCKET_RESILIENCE
from dojo_epos.platform.tester.flows.sockets import backs_off
from dojo_epos.serving import Served, start_server
from tests.epos.reference.conftest import db_url, pg_database  # noqa: F401 (fixtures)
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, DemoHandler, scope_of
from tests.platform.tester.socket_strangers import Manners, SocketStranger

pytestmark = pytest.mark.socket

KEEPALIVE = {"pings": 2, "pongWithin": 1, "idleFor": 1}
RECONNECT = {"reconnectWithin": 2, "refusals": 3, "backoffWithin": 10}
REPLACED = {"window": 1.5, "maxReconnects": 0}


@dataclass
class Served_:
    platform: Platform
    server: Served
    client: AsyncClient

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/epos"

    async def run(self, flow: str, **params: Any) -> FlowResult:
        flow_id = await self.client.run_flow(flow, params)
        result = await self.platform.tester.wait(scope_of(), flow_id)
        assert result is not None
        return result

    async def wait_connected(self) -> None:
        for _ in range(500):
            if self.platform.gateway.connection(scope_of()) is not None:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("no EPOS socket")


@pytest.fixture
async def served(tmp_path: Any) -> AsyncIterator[Served_]:
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}",
                                         ping_interval=None, flow_timeout=60.0))
    await platform.start()
    server = await start_server(build_platform_app(platform=platform), lifespan="off",
                                ws_ping_interval=None)
    client = AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url=server.url)
    await client.put_ws_integration([("GetOrderById", "v1")])
    yield Served_(platform, server, client)
    await client.aclose()
    await server.stop()
    await platform.close()


def steps(result: FlowResult) -> list[tuple[str, Status]]:
    return [(s.name, s.status) for s in result.steps]


def info(result: FlowResult, index: int) -> str:
    return " | ".join(result.steps[index].additional_information)


def failed_at(result: FlowResult, index: int, pattern: str) -> None:
    """The flow failed at step ``index`` saying ``pattern``; every step before it succeeded and
    nothing after it ran."""
    assert result.status is Status.FAILURE, steps(result)
    assert [s.status for s in result.steps] == [Status.SUCCESS] * index + [Status.FAILURE], \
        steps(result)
    assert re.search(pattern, info(result, index)), info(result, index)


async def test_our_connector_over_the_reference_epos_passes_every_socket_flow(
        served: Served_, db_url: str) -> None:  # noqa: F811 (the fixture imported above)
    """Keepalive, Reconnect, then Replaced socket (which our connector answers by stopping)."""
    epos = await open_reference(db_url)
    await seed_database(epos.db)
    await served.client.put_ws_integration([(c.name, "v1") for c in epos.offered_capabilities()])
    connector = Connector(epos, served.ws_url, SANDBOX_KEY, SOFTWARE_HOUSE, backoff_initial=0.05,
                          ping_interval=0.2, ping_timeout=2, grace_period=0.2)
    runner = asyncio.create_task(connector.run())
    try:
        await served.wait_connected()
        keepalive = await served.run("Keepalive", **KEEPALIVE)
        assert keepalive.status is Status.SUCCESS, steps(keepalive)
        assert re.search(r"the EPOS pinged [1-9]\d* time", info(keepalive, 2))
        print("\n" + info(keepalive, 1))

        reconnect = await served.run("Reconnect", **RECONNECT)
        assert reconnect.status is Status.SUCCESS, [steps(reconnect), info(reconnect, 2)]
        print("\n" + info(reconnect, 1) + "\n" + info(reconnect, 2))  # the figures, with -s
        # after the refusals and drops, the EPOS serves calls as before
        outcome = await served.platform.invoke(scope_of(), "SearchOrders", {})
        assert outcome.ok and outcome.transport == "ws", outcome.detail
        assert connector.state is ConnectorState.CONNECTED

        replaced = await served.run("Replaced socket", **REPLACED)
        assert replaced.status is Status.SUCCESS, [steps(replaced), info(replaced, 2)]
        assert "did not come back" in info(replaced, 2)
        with pytest.raises(ConnectorGaveUp):  # close 4000 means stop (on_replaced="stop")
            await asyncio.wait_for(runner, 2)
    finally:
        await connector.stop()
        if not runner.done():
            await runner
        await epos.aclose()


@pytest.mark.parametrize(("flow", "params", "manners", "index", "pattern"), [
    ("Reconnect", {**RECONNECT, "reconnectWithin": 0.5}, Manners.NEVER_RECONNECTS, 1,
     r"did not reconnect within 0.5 s"),
    ("Reconnect", RECONNECT, Manners.TIGHT_LOOP, 2, r"do not back off: intervals"),
    ("Replaced socket", REPLACED, Manners.TIGHT_LOOP, 2,
     r"came back \d+ time\(s\) within 1.5 s after being replaced"),
    ("Keepalive", KEEPALIVE, Manners.IGNORES_PINGS, 1, r"no pong to ping 1 within 1 s"),
    pytest.param("Reconnect", RECONNECT, Manners.STEADY, 2, r"do not back off: intervals 0\.5",
                 marks=pytest.mark.slow, id="Reconnect-steady"),
])
async def test_each_socket_flow_fails_at_the_right_step_against_a_broken_epos(
        served: Served_, flow: str, params: dict[str, Any], manners: Manners, index: int,
        pattern: str) -> None:
    stranger = await SocketStranger(served.ws_url, manners).start()
    try:
        failed_at(await served.run(flow, **params), index, pattern)
    finally:
        await stranger.stop()


async def test_an_epos_that_never_pings_is_noted_not_failed(served: Served_) -> None:
    stranger = await SocketStranger(served.ws_url, Manners.NEVER_PINGS).start()
    try:
        result = await served.run("Keepalive", **{**KEEPALIVE, "idleFor": 0.3})
    finally:
        await stranger.stop()
    assert result.status is Status.SUCCESS, steps(result)
    assert "noted: the EPOS sent no ping in 0.3 s" in info(result, 2)


@pytest.mark.parametrize("flow", [f.name for f in SOCKET_RESILIENCE])
async def test_without_a_socket_each_flow_fails_its_first_step_saying_so(
        served: Served_, flow: str) -> None:
    failed_at(await served.run(flow), 0, r"no EPOS socket is connected for this account scope|"
                                         r"this run uses rest")


async def test_bad_parameters_are_refused_before_the_run(served: Served_) -> None:
    with pytest.raises(PlatformApiError, match="refusals must be between 2 and 10"):
        await served.client.run_flow("Reconnect", {"refusals": 1})
    with pytest.raises(PlatformApiError, match="refusalStatus must be 401 or 503"):
        await served.client.run_flow("Reconnect", {"refusalStatus": 404})


def test_backing_off_means_growing_intervals_allowing_for_jitter() -> None:
    assert backs_off([0.1, 0.2, 0.4]) and backs_off([1.0, 0.8, 2.0])
    assert not backs_off([0.01, 0.01, 0.01]) and not backs_off([0.02, 0.02, 0.03])  # tight loops
    assert not backs_off([0.5, 0.5, 0.5])  # steady: not hammering, but not backing off either
    assert not backs_off([0.4, 0.1, 0.8]) and not backs_off([0.3])


@pytest.mark.slow
async def test_our_connector_with_its_default_backoff_passes_reconnect(served: Served_) -> None:
    """The figures at the connector's defaults (back-off from 0.5 s, doubling, jitter 0.2): about
    15 s of refusals; printed with ``-s``."""
    connector = Connector(DemoHandler(), served.ws_url, SANDBOX_KEY, SOFTWARE_HOUSE,
                          ping_interval=None, grace_period=0.2)
    runner = asyncio.create_task(connector.run())
    try:
        await served.wait_connected()
        result = await served.run("Reconnect", refusals=3, backoffWithin=60)
        assert result.status is Status.SUCCESS, [steps(result), info(result, 2)]
        print("\n" + info(result, 1) + "\n" + info(result, 2))
    finally:
        await connector.stop()
        await runner
