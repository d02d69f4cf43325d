"""Faults on the socket itself, on a real loopback socket: refused handshakes, unanswered pings,
and the platform's own timed pings. The EPOS here is plain ``websockets``."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.frames import Opcode

from dojo_epos.client import AsyncClient
from dojo_epos.epos.connector import Connector, ConnectorState
from dojo_epos.platform.faults import Fault, FaultKind
from dojo_epos.platform.socket_faults import HANDSHAKE, PING
from tests.platform.conftest import (
    SANDBOX_KEY,
    SOFTWARE_HOUSE,
    DemoHandler,
    LiveServer,
    auth_headers,
    scope_of,
)
from tests.platform.test_gateway import wait_for

pytestmark = pytest.mark.socket


@pytest.mark.parametrize("status", [401, 503])
async def test_a_refuse_handshake_fault_answers_its_status_before_the_upgrade_n_times(
        live: LiveServer, status: int) -> None:
    """The next ``times`` handshakes get the HTTP status with a JSON body; the one after is let in,
    each refusal is in the call log and every handshake is noted on the gateway."""
    scope = scope_of()
    live.platform.invoker.faults.add(scope, Fault(FaultKind.REFUSE_HANDSHAKE, status=status, times=2))
    for _ in range(2):
        with pytest.raises(InvalidStatus) as info:
            async with connect(live.ws_url, additional_headers=auth_headers()):
                pass
        assert info.value.response.status_code == status
        body = json.loads(info.value.response.body)
        assert body["error"] == "fault_injected" and "refused on purpose" in body["message"]
    async with connect(live.ws_url, additional_headers=auth_headers()):
        await wait_for(lambda: live.platform.gateway.connection(scope) is not None)
    assert [h.status for h in live.platform.gateway.handshakes(scope)] == [status, status, 101]
    assert live.platform.gateway.refused == 2
    logged = [c for c in live.platform.invoker.calls.recent(scope) if c.capability == HANDSHAKE]
    assert len(logged) == 2
    assert all(f"refuse-handshake HTTP {status}" in (c.detail or "") for c in logged)


async def test_an_ignore_pings_fault_withholds_the_pongs_of_that_scope_only(live: LiveServer) -> None:
    """With the fault set, the EPOS's ping goes unanswered (and is logged); once it has fired its
    ``times``, pings are answered again."""
    scope = scope_of()
    async with connect(live.ws_url, additional_headers=auth_headers()) as ws:
        await asyncio.wait_for(await ws.ping(), 2)  # answered: nothing set
        live.platform.invoker.faults.add(scope, Fault(FaultKind.IGNORE_PINGS, times=1))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(await ws.ping(), 0.5)
        await asyncio.wait_for(await ws.ping(), 2)  # the fault fired its one time
        session = live.platform.gateway.connection(scope)
        assert session is not None and session.keepalive is not None
        assert session.keepalive.pings_received == 3
    [logged] = [c for c in live.platform.invoker.calls.recent(scope) if c.capability == PING]
    assert "ignore-pings" in (logged.detail or "") and logged.transport == "ws"


async def test_the_platform_pings_the_epos_and_times_the_pong(live: LiveServer) -> None:
    """A pong comes back as a round trip in seconds; an EPOS that withholds pongs times out."""
    scope = scope_of()
    async with connect(live.ws_url, additional_headers=auth_headers()) as ws:
        await wait_for(lambda: live.platform.gateway.connection(scope) is not None)
        session = live.platform.gateway.connection(scope)
        assert session is not None and session.keepalive is not None
        rtt = await session.keepalive.ping(2)
        assert 0 < rtt < 2
        # A plain websockets client with its automatic pong switched off.
        send_frame = ws.protocol.send_frame
        ws.protocol.send_frame = lambda frame: (  # type: ignore[method-assign]
            None if frame.opcode is Opcode.PONG else send_frame(frame))
        with pytest.raises(TimeoutError):
            await session.keepalive.ping(0.3)


async def test_our_connector_notices_a_platform_that_stops_answering_its_pings(
        live: LiveServer) -> None:
    """With ignore-pings set, our connector's keepalive times out, it drops the dead socket and
    reconnects; once the fault has fired its times, the new socket stays up."""
    scope = scope_of()
    connector = Connector(DemoHandler(), live.ws_url, SANDBOX_KEY, SOFTWARE_HOUSE,
                          backoff_initial=0.05, ping_interval=0.1, ping_timeout=0.2,
                          grace_period=0.1)
    runner = asyncio.create_task(connector.run())
    try:
        await wait_for(lambda: live.platform.gateway.connection(scope) is not None)
        live.platform.invoker.faults.add(scope, Fault(FaultKind.IGNORE_PINGS, times=1))
        await asyncio.wait_for(wait_for(lambda: connector.stats.connections >= 2), 5)
        await wait_for(lambda: connector.state is ConnectorState.CONNECTED)
        assert connector.last_problem is None
    finally:
        await connector.stop()
        await runner
    assert [c.capability for c in live.platform.invoker.calls.recent(scope)] == [PING]


async def test_a_socket_fault_set_through_the_platform_api_acts_on_the_next_handshake(
        live: LiveServer) -> None:
    """``POST /epos-tester-tool/faults`` (what ``dojo-epos faults add`` sends) reaches the socket."""
    async with AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url=live.base_url) as client:
        await client.add_fault("refuse-handshake", status=401, times=1)
        with pytest.raises(InvalidStatus) as info:
            async with connect(live.ws_url, additional_headers=auth_headers()):
                pass
        assert info.value.response.status_code == 401
        async with connect(live.ws_url, additional_headers=auth_headers()):
            pass
        assert await client.list_faults() == []  # used up
