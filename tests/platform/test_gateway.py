"""The WebSocket gateway on a real loopback socket, against EPOSes written with plain websockets.

None of these EPOSes uses dojo-epos's connector: they are a few lines of ``websockets`` each, so the
gateway is tested against the wire protocol, not against our own other half.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dojo_epos.contract.models import RequestHeaders
from dojo_epos.platform import CLOSE_REPLACED, Failure
from tests.platform.conftest import (
    PROD_KEY,
    SANDBOX_KEY,
    LiveServer,
    auth_headers,
    make_order,
    scope_of,
)
from tests.specs import needs_specs, validate, ws_spec

pytestmark = pytest.mark.socket

Answer = Callable[[dict[str, Any]], dict[str, Any] | None]


def answer_orders(message: dict[str, Any]) -> dict[str, Any] | None:
    """A correct EPOS: GetOrderByIdV1 for ord_1, NotFound for anything else."""
    reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"], "method": message["method"]}
    if message["method"] == "GetOrderByIdV1" and message["params"]["orderId"] == "ord_1":
        reply["result"] = make_order().to_wire("ws")
    elif message["method"] == "HandleEventV1":
        reply["result"] = {}
    else:
        reply["error"] = {"errorType": "NotFound", "debugMessage": "no such thing"}
    return reply


class WsEpos:
    """A plain-websockets EPOS: answers with ``answer`` and keeps every request it got."""

    def __init__(self, ws: ClientConnection, answer: Answer) -> None:
        self.ws = ws
        self.answer = answer
        self.received: list[dict[str, Any]] = []
        self.closed: ConnectionClosed | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for frame in self.ws:
                message = json.loads(frame)
                self.received.append(message)
                reply = self.answer(message)
                if reply is not None:
                    await self.ws.send(json.dumps(reply))
        except ConnectionClosed as exc:
            self.closed = exc
        else:
            self.closed = ConnectionClosed(self.ws.protocol.close_rcvd, self.ws.protocol.close_sent)


@asynccontextmanager
async def ws_epos(live: LiveServer, answer: Answer = answer_orders,
                  headers: dict[str, str] | None = None) -> AsyncIterator[WsEpos]:
    async with connect(live.ws_url, additional_headers=headers or auth_headers()) as ws:
        epos = WsEpos(ws, answer)
        await wait_for(lambda: live.platform.gateway.connection(scope_of()) is not None
                       or headers is not None)
        try:
            yield epos
        finally:
            epos.task.cancel()


async def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Yield to the loop until ``condition`` holds; fail after ``seconds`` (a condition that is
    never reached is a failure to read, not a hang that runs CI out of time)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {seconds} s: {condition}"
        await asyncio.sleep(0.005)


async def register_ws(live: LiveServer, names: list[str], key: str = SANDBOX_KEY) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.put(
            "/epos/integrations/ws", headers=auth_headers(key),
            json={"capabilities": [{"name": n, "version": "v1"} for n in names]})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("headers", "status", "code"), [
    ({}, 401, "missing_api_key"),
    ({"Authorization": "Basic sk_test_123", "software-house-id": "s"}, 401, "invalid_api_key"),
    ({"Authorization": "Basic c2tfc2FuZGJveF90ZXN0MDEyMw==", "software-house-id": "s"}, 401,
     "invalid_api_key"),
    ({"Authorization": f"Basic {SANDBOX_KEY}"}, 400, "missing_software_house_id"),
])
async def test_a_bad_handshake_is_refused_with_an_http_status(
    live: LiveServer, headers: dict[str, str], status: int, code: str
) -> None:
    """The client sees HTTP 401/400 with a JSON body; the upgrade never happens."""
    with pytest.raises(InvalidStatus) as info:
        async with connect(live.ws_url, additional_headers=headers):
            pass
    assert info.value.response.status_code == status
    assert json.loads(info.value.response.body)["error"] == code
    assert live.platform.gateway.connections() == []


@needs_specs
async def test_an_independent_epos_connects_registers_and_answers(live: LiveServer) -> None:
    """The request it receives is Dojo's envelope, and its answer comes back as an Order."""
    async with ws_epos(live) as epos:
        await register_ws(live, ["GetOrderById"])
        outcome = await live.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"},
                                             RequestHeaders(waiter_id="42"))
    assert outcome.ok, outcome.detail
    assert outcome.transport == "ws"
    assert outcome.result is not None and outcome.result.model_dump()["id"] == "ord_1"
    [request] = epos.received
    assert request["method"] == "GetOrderByIdV1"
    assert isinstance(request["id"], str)
    assert request["params"] == {"orderId": "ord_1", "headers": {"waiterId": "42"}}
    validate(request, ws_spec(), "GetOrderByIdJsonrpcRequestV1")
    assert outcome.request["id"] == request["id"]
    counters = live.platform.gateway.stats()["totals"]
    assert counters["requests_sent"] == 1 and counters["results"] == 1


async def test_headers_are_always_present_in_params(live: LiveServer) -> None:
    """Even with no request headers, params.headers is sent (as {})."""
    async with ws_epos(live) as epos:
        await register_ws(live, ["GetOrderById"])
        await live.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert epos.received[0]["params"]["headers"] == {}


async def test_concurrent_calls_get_unique_ids_and_their_own_replies(live: LiveServer) -> None:
    """Replies are matched by id, so interleaved calls each get the right answer."""
    async with ws_epos(live) as epos:
        await register_ws(live, ["GetOrderById"])
        outcomes = await asyncio.gather(*[
            live.platform.invoke(scope_of(), "GetOrderById", {"orderId": oid})
            for oid in ["ord_1", "ord_2", "ord_1", "ord_3"]])
    assert [o.ok for o in outcomes] == [True, False, True, False]
    assert all(o.failure is Failure.EPOS_ERROR for o in outcomes if not o.ok)
    ids = [m["id"] for m in epos.received]
    assert len(set(ids)) == 4


async def test_an_epos_error_reply_is_a_typed_failure(live: LiveServer) -> None:
    """The EPOSError from the EPOS comes back as error, with its type and message."""
    async with ws_epos(live):
        await register_ws(live, ["GetOrderById"])
        outcome = await live.platform.invoke(scope_of(), "GetOrderById", {"orderId": "nope"})
    assert outcome.failure is Failure.EPOS_ERROR
    assert outcome.error is not None and outcome.error.error_type.value == "NotFound"
    assert outcome.reply == {"error": {"errorType": "NotFound", "debugMessage": "no such thing"}}


async def test_an_epos_that_never_answers_times_out(live: LiveServer) -> None:
    """A silent EPOS yields TimedOut; its late answer is then counted, not delivered."""
    held: list[dict[str, Any]] = []

    def hold(message: dict[str, Any]) -> None:
        held.append(message)
        return None

    async with ws_epos(live, hold) as epos:
        await register_ws(live, ["GetOrderById"])
        outcome = await live.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"},
                                             timeout=0.05)
        assert outcome.failure is Failure.TIMED_OUT
        assert outcome.request["id"] == held[0]["id"]
        # now answer, too late
        await epos.ws.send(json.dumps(answer_orders(held[0])))
        gateway = live.platform.gateway
        await wait_for(lambda: gateway.totals.late_replies == 1)
        assert gateway.totals.timeouts == 1
        assert gateway.totals.unknown_replies == 0
        assert gateway.connection(scope_of()) is not None  # still connected


async def test_garbage_frames_are_counted_and_the_gateway_stays_up(live: LiveServer) -> None:
    """Malformed frames, stray replies and requests from the EPOS are never fatal."""
    async with connect(live.ws_url, additional_headers=auth_headers()) as ws:
        await register_ws(live, ["GetOrderById"])
        for frame in ["not json at all", "[1, 2, 3]", '{"jsonrpc": "2.0"}', "\u0000",
                      '{"jsonrpc":"2.0","id":"never-sent","result":{}}']:
            await ws.send(frame)
        await ws.send(b"\xff\xfe binary")
        await ws.send('{"jsonrpc":"2.0","id":"q1"}')  # a request without a method: answerable
        await ws.send('{"jsonrpc":"2.0","id":"q2","method":"Anything","params":{}}')
        replies = [json.loads(await ws.recv()), json.loads(await ws.recv())]
        assert {r["id"] for r in replies} == {"q1", "q2"}
        assert {r["error"]["errorType"] for r in replies} == {"InvalidRequest", "NotFound"}
        totals = live.platform.gateway.totals
        assert totals.malformed_frames == 6
        assert totals.unknown_replies == 1
        assert totals.requests_from_epos == 1
        # and a valid call afterwards still works on the same socket
        epos = WsEpos(ws, answer_orders)
        outcome = await live.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
        epos.task.cancel()
    assert outcome.ok, outcome.detail


async def test_a_reply_that_breaks_the_schema_names_the_field(live: LiveServer) -> None:
    """An Order without status is a SchemaViolation that says 'status'."""
    def broken(message: dict[str, Any]) -> dict[str, Any]:
        order = make_order().to_wire("ws")
        del order["status"]
        return {"jsonrpc": "2.0", "id": message["id"], "result": order}

    async with ws_epos(live, broken):
        await register_ws(live, ["GetOrderById"])
        outcome = await live.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.failure is Failure.SCHEMA_VIOLATION
    assert outcome.field == "status"
    assert "status" in (outcome.detail or "")


async def test_a_newer_socket_replaces_the_older_which_is_told_why(live: LiveServer) -> None:
    """One live socket per scope; the old one is closed with CLOSE_REPLACED and a reason."""
    async with ws_epos(live) as first:
        old = live.platform.gateway.connection(scope_of())
        async with connect(live.ws_url, additional_headers=auth_headers()) as ws2:
            second = WsEpos(ws2, answer_orders)
            await wait_for(lambda: first.closed is not None)
            closed = first.closed
            assert closed is not None and closed.rcvd is not None
            assert closed.rcvd.code == CLOSE_REPLACED
            assert "replaced" in closed.rcvd.reason
            await wait_for(lambda: live.platform.gateway.connection(scope_of()) is not old)
            await register_ws(live, ["GetOrderById"])
            outcome = await live.platform.invoke(scope_of(), "GetOrderById",
                                                 {"orderId": "ord_1"})
            second.task.cancel()
    assert outcome.ok
    assert len(second.received) == 1 and first.received == []


async def test_sockets_are_scoped_to_environment_and_software_house(live: LiveServer) -> None:
    """A sandbox socket does not serve production or another software house."""
    async with ws_epos(live):
        for key, house in [(PROD_KEY, "softwareHouse1"), (SANDBOX_KEY, "otherHouse")]:
            async with httpx.AsyncClient(base_url=live.base_url) as client:
                await client.put("/epos/integrations/ws", headers=auth_headers(key, house),
                                 json={"capabilities": [{"name": "GetOrderById",
                                                         "version": "v1"}]})
            outcome = await live.platform.invoke(scope_of(key, house), "GetOrderById",
                                                 {"orderId": "ord_1"})
            assert outcome.failure is Failure.NOT_CONNECTED, (key, house)


async def test_registered_but_not_connected_and_connected_but_not_registered(
    live: LiveServer,
) -> None:
    """Registration and connection are both needed; each missing one has its own failure."""
    await register_ws(live, ["GetOrderById"])
    outcome = await live.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.failure is Failure.NOT_CONNECTED
    async with ws_epos(live) as epos:
        outcome = await live.platform.invoke(scope_of(), "ListAreas")
    assert outcome.failure is Failure.NOT_REGISTERED
    assert epos.received == []


async def test_a_socket_closing_mid_call_is_a_transport_error(live: LiveServer) -> None:
    """The EPOS hangs up instead of answering: TransportError, not a hang."""
    closing: list[asyncio.Task[None]] = []

    def hang_up(message: dict[str, Any]) -> None:
        closing.append(asyncio.ensure_future(epos.ws.close()))
        return None

    async with ws_epos(live, hang_up) as epos:
        await register_ws(live, ["GetOrderById"])
        outcome = await live.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
        await asyncio.gather(*closing)
    assert outcome.failure is Failure.TRANSPORT_ERROR


@needs_specs
async def test_handle_event_is_delivered_over_the_socket(live: LiveServer) -> None:
    """payment_intent.status_updated reaches an EPOS that registered it, as HandleEventV1."""
    async with ws_epos(live) as epos:
        await register_ws(live, ["HandleEvent:payment_intent.status_updated"])
        outcome = await live.platform.deliver_payment_intent_event(
            scope_of(), "payment_intent.status_updated",
            {"paymentIntentId": "pi_1", "paymentStatus": "Captured", "captureMode": "Auto"})
        not_registered = await live.platform.deliver_payment_intent_event(
            scope_of(), "payment_intent.created",
            {"paymentIntentId": "pi_1", "paymentStatus": "Created", "captureMode": "Auto"})
    assert outcome.ok, outcome.detail
    assert not_registered.failure is Failure.NOT_REGISTERED
    [request] = epos.received
    assert request["method"] == "HandleEventV1"
    assert request["params"]["event"] == "payment_intent.status_updated"
    assert request["params"]["data"]["paymentIntentId"] == "pi_1"
    validate(request, ws_spec(), "HandleEventJsonrpcRequestV1")


async def test_gateway_stats_describe_each_socket_without_secrets(live: LiveServer) -> None:
    """The dashboard's view: scope parts, reseller, connect time and counters; no key."""
    async with ws_epos(live, headers=auth_headers(reseller="reseller7")):
        await wait_for(lambda: live.platform.gateway.connections() != [])
        stats = live.platform.gateway.stats()
    [socket] = stats["sockets"]
    assert socket["environment"] == "sandbox"
    assert socket["softwareHouseId"] == "softwareHouse1"
    assert socket["resellerId"] == "reseller7"
    assert "connectedAt" in socket and "counters" in socket
    assert SANDBOX_KEY not in json.dumps(stats)
