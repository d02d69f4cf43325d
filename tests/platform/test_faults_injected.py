"""Faults acted out on real calls: a socket EPOS (our connector over a loopback port) and a REST
EPOS in process. Each injected fault shows in the call log, and only in the scope it was set for."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from dojo_epos.platform import Failure, Platform
from dojo_epos.platform.faults import Fault, FaultKind
from tests.platform.conftest import DemoHandler, RestEpos, scope_of
from tests.platform.test_invoke_rest import register_rest
from tests.reliability.rigs import platform_rig

ORDER = {"orderId": "ord_1", "headers": {}}


class CountingHandler(DemoHandler):
    """Counts the GetOrderById requests that reach it."""

    seen = 0

    async def get_order_by_id(self, params, ctx):  # type: ignore[no-untyped-def]
        CountingHandler.seen += 1
        return await super().get_order_by_id(params, ctx)


@pytest.mark.socket
async def test_socket_faults_act_on_the_call_and_show_in_the_call_log(tmp_path: Path) -> None:
    rig = await platform_rig(tmp_path, call_timeout=0.5)
    handler = CountingHandler()
    CountingHandler.seen = 0
    try:
        connector = await rig.attach(handler, "fault-house")
        other = await rig.attach(DemoHandler(), "quiet-house")
        scope, quiet = rig.scopes
        faults = rig.platform.invoker.faults

        faults.add(scope, Fault(FaultKind.DELAY, delay=0.2, capability="GetOrderById", times=1))
        delayed = await rig.platform.invoke(scope, "GetOrderById", ORDER)
        assert delayed.ok and delayed.duration_ms >= 200 and "delay 0.2 s" in (delayed.detail or "")
        assert (await rig.platform.invoke(quiet, "GetOrderById", ORDER)).detail is None

        faults.add(scope, Fault(FaultKind.NEVER_ANSWER, times=1))
        swallowed = await rig.platform.invoke(scope, "GetOrderById", ORDER)
        assert swallowed.failure is Failure.TIMED_OUT and "never-answer" in (swallowed.detail or "")

        before = CountingHandler.seen
        faults.add(scope, Fault(FaultKind.DELIVER_TWICE, times=1))
        twice = await rig.platform.invoke(scope, "GetOrderById", ORDER)
        assert twice.ok
        async with asyncio.timeout(5):
            while CountingHandler.seen < before + 2:
                await asyncio.sleep(0.01)

        faults.add(scope, Fault(FaultKind.CLOSE, close_code=1012, times=1))
        closed = await rig.platform.invoke(scope, "GetOrderById", ORDER)
        assert closed.failure is Failure.TRANSPORT_ERROR and "code 1012" in (closed.detail or "")
        assert rig.platform.gateway.connection(quiet) is not None  # the other scope's socket stays
        await asyncio.sleep(0.1)
        await rig.wait_connected(connector, scope)

        faults.add(scope, Fault(FaultKind.DROP_AFTER_SEND, times=1))
        dropped = await rig.platform.invoke(scope, "GetOrderById", ORDER)
        assert dropped.failure is Failure.TRANSPORT_ERROR, dropped.summary()
        assert "drop-after-send" in (dropped.detail or "")
        assert faults.of(scope) == [] and other is not None
    finally:
        await rig.aclose()


async def test_rest_faults_reset_and_retry_after_time_out(
        http: httpx.AsyncClient, platform: Platform, rest_epos: RestEpos) -> None:
    platform.invoker.set_http_transport(httpx.ASGITransport(app=rest_epos.app()))
    await register_rest(http, ["GetOrderById"])
    platform.invoker.faults.add(scope_of(), Fault(FaultKind.REST_RESET, times=1))
    reset = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert reset.failure is Failure.TRANSPORT_ERROR and "rest-reset" in (reset.detail or "")
    assert rest_epos.seen == []  # nothing reached the EPOS
    platform.invoker.faults.add(scope_of(), Fault(FaultKind.REST_RETRY_AFTER_TIMEOUT, times=1))
    again = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert again.ok and len(rest_epos.seen) == 2  # sent, given up on, sent again
    assert (await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})).detail is None
