"""HandleEvent beside the webhook: every change of an intent reaches the EPOS both ways, one event.

The EPOSes are written with plain ``websockets`` (registered over the socket) and plain Starlette
(registered over REST); the webhook receiver is the plain one of :mod:`.test_webhooks`. One payment
and one full refund give two status changes (Captured, Refunded): each arrives as a signed webhook
and as ``HandleEvent:payment_intent.status_updated``, with the same intent id and the same event id
(so an EPOS receiving both de-duplicates by it, domain notes §3.7).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dojo_epos.platform import Platform, PlatformSettings
from dojo_epos.serving import start_server
from tests.platform.conftest import LiveServer, auth_headers
from tests.platform.test_gateway import register_ws, ws_epos
from tests.specs import needs_specs, validate, ws_spec

from .conftest import Api, take_payment
from .test_webhooks import Receiver, subscribe

pytestmark = pytest.mark.socket

STATUS_UPDATED = "payment_intent.status_updated"


@pytest.fixture
def settings(tmp_path: Any) -> PlatformSettings:
    return PlatformSettings(db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}", ping_interval=None)


@pytest.fixture
async def hooks() -> AsyncIterator[Receiver]:
    """The plain webhook receiver, on a loopback port."""
    found = Receiver()
    served = await start_server(found.app())
    found.url = f"{served.url}/hook"
    yield found
    await served.stop()


async def pay_and_refund_in_full(api: Api, platform: Platform, intent_id: str) -> None:
    await take_payment(platform, intent_id, amount=1000, tips=0)
    status, _ = await api.call("POST", "/payment-intents/{paymentIntentId}/refunds",
                               json={"amount": 1000}, key="all", paymentIntentId=intent_id)
    assert status == 200
    await platform.payments.drain()


def check_pairs(handled: list[dict[str, Any]], receiver: Receiver, intent_id: str) -> None:
    """Both channels got Captured then Refunded for the intent, event by event the same."""
    hooks = receiver.events()
    assert [e["data"]["paymentStatus"] for e in handled] == ["Captured", "Refunded"]
    assert [e["data"]["paymentStatus"] for e in hooks] == ["Captured", "Refunded"]
    for by_handle_event, by_webhook in zip(handled, hooks, strict=True):
        assert by_handle_event["data"]["paymentIntentId"] == intent_id
        assert by_handle_event["event"] == by_webhook["event"] == STATUS_UPDATED
        assert {k: by_handle_event[k] for k in by_webhook} == by_webhook  # same id, same data


@needs_specs
async def test_a_websocket_epos_gets_handle_event_beside_the_webhook(
        api: Api, live: LiveServer, hooks: Receiver) -> None:
    """Over the socket: HandleEventV1 for each status change, the webhook for each as well."""
    await subscribe(api, hooks.url)
    async with ws_epos(live) as epos:
        # Only status_updated is registered: payment_intent.created goes by neither channel.
        await register_ws(live, ["HandleEvent:payment_intent.status_updated"])
        await pay_and_refund_in_full(api, live.platform, "pi_he_ws")
    requests = [r for r in epos.received if r["method"] == "HandleEventV1"]
    for request in requests:
        validate(request, ws_spec(), "HandleEventJsonrpcRequestV1")
    check_pairs([{k: v for k, v in r["params"].items() if k != "headers"} for r in requests],
                hooks, "pi_he_ws")
    await live.platform.invoker.flush_log()
    log = [c.capability for c in live.platform.invoker.recent() if c.transport == "ws"]
    assert log == [f"HandleEvent:{STATUS_UPDATED}"] * 2  # in the call log, like any call


async def test_a_rest_epos_gets_handle_event_beside_the_webhook(
        api: Api, platform: Platform, hooks: Receiver) -> None:
    """Over REST: POST /v1/events with the registration's basic auth, for each status change."""
    got: list[tuple[str | None, dict[str, Any]]] = []

    async def events(request: Request) -> Response:
        got.append((request.headers.get("authorization"), json.loads(await request.body())))
        return JSONResponse({})

    served = await start_server(Starlette(routes=[Route("/v1/events", events, methods=["POST"])]))
    try:
        await subscribe(api, hooks.url)
        registered = await api.http.put("/epos/integrations/rest", headers=auth_headers(), json={
            "url": served.url, "auth": {"basic": {"username": "till", "password": "pw-1"}},
            "capabilities": [{"name": f"HandleEvent:{STATUS_UPDATED}", "version": "v1"}]})
        assert registered.status_code == 200, registered.text
        await pay_and_refund_in_full(api, platform, "pi_he_rest")
    finally:
        await served.stop()
    basic = "Basic " + base64.b64encode(b"till:pw-1").decode()
    assert [auth for auth, _ in got] == [basic, basic]
    check_pairs([body for _, body in got], hooks, "pi_he_rest")


async def test_no_handle_event_for_an_epos_that_did_not_register_it(
        api: Api, platform: Platform, hooks: Receiver) -> None:
    """The webhooks go; nothing is called on the EPOS, and the call log shows no HandleEvent."""
    await subscribe(api, hooks.url)
    await pay_and_refund_in_full(api, platform, "pi_he_none")
    assert len(hooks.events()) == 2
    assert not [c for c in platform.invoker.recent() if c.capability.startswith("HandleEvent")]
