"""Webhooks end to end: a receiver written with plain Starlette on a real loopback socket.

The receiver knows nothing of this project: it checks the ``dojo-signature`` header with its own
HMAC code, answers as a test tells it to (500 first, then 200, ...), and keeps what it got. The
platform's deliveries are signed, retried on 4xx/5xx, in the call log, and verified by the SDK's
verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dojo_epos.platform import Platform, PlatformSettings
from dojo_epos.serving import start_server
from dojo_epos.webhooks import signature_header, verify_signature
from tests.platform.conftest import auth_headers, scope_of

from .conftest import Api, take_payment

pytestmark = pytest.mark.socket


@dataclass
class Receiver:
    """What the plain receiver got, and the statuses it answers with (then 200)."""

    statuses: list[int] = field(default_factory=list)
    got: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.got.append((await request.body(), dict(request.headers)))
            return Response(status_code=self.statuses.pop(0) if self.statuses else 200)
        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.got]


def own_check(body: bytes, header: str, secret: str) -> bool:
    """The receiver's own reading of the documented scheme (not the SDK's code)."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    mac = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


@pytest.fixture
def settings(tmp_path: Any) -> PlatformSettings:
    return PlatformSettings(db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}",
                            ping_interval=None, webhook_retry_delays=(0.05, 0.1, 0.2))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    served = await start_server(found.app())
    found.url = f"{served.url}/hook"
    yield found
    await served.stop()


async def subscribe(api: Api, url: str, events: list[str] | None = None) -> dict[str, Any]:
    status, sub = await api.call("POST", "/webhooks", json={
        "events": events or ["payment_intent.status_updated"], "url": url}, local=True)
    assert status == 200, sub
    return sub


async def test_deliveries_are_signed_and_verified(api: Api, platform: Platform,
                                                  receiver: Receiver) -> None:
    sub = await subscribe(api, receiver.url, ["payment_intent.created", "payment_intent.status_updated"])
    secret = sub["secrets"][0]["value"]
    await take_payment(platform, "pi_w1", amount=1000, tips=0)
    await platform.payments.deliverer.drain()
    assert sorted(e["event"] for e in receiver.events()) == ["payment_intent.created",
                                                             "payment_intent.status_updated"]
    for body, headers in receiver.got:
        assert own_check(body, headers["dojo-signature"], secret)
        assert verify_signature(body, headers["dojo-signature"], [secret])
        assert not verify_signature(body + b" ", headers["dojo-signature"], [secret])
        assert not verify_signature(body, headers["dojo-signature"], ["another secret"])
    event = receiver.events()[-1]
    assert event["data"] == {"paymentIntentId": "pi_w1", "paymentStatus": "Captured",
                             "captureMode": "Auto"}
    assert event["id"].startswith("evt_") and event["accountId"] == sub["accountId"]


async def test_failed_deliveries_are_retried_with_the_same_event_then_given_up(
        api: Api, platform: Platform, receiver: Receiver) -> None:
    await subscribe(api, receiver.url)
    receiver.statuses = [500, 404]
    await take_payment(platform, "pi_w2", amount=1000, tips=0)
    await platform.payments.deliverer.drain()
    ids = [e["id"] for e in receiver.events()]
    assert len(ids) == 3 and len(set(ids)) == 1  # 500, 404, then 200: one event, three attempts
    receiver.got.clear()
    receiver.statuses = [503] * 10
    _, _ = await api.call("POST", "/payment-intents/{paymentIntentId}/refunds", json={"amount": 1000},
                          key="all", paymentIntentId="pi_w2")
    await platform.payments.deliverer.drain()
    assert len(receiver.got) == 4  # the first attempt and the three retries configured
    await platform.invoker.flush_log()
    log = [c for c in await platform.store.calls(scope_of()) if c.transport == "webhook"]
    assert [c.outcome for c in reversed(log)] == ["EposErrorReply", "EposErrorReply", "ok",
                                                  *["EposErrorReply"] * 4]
    assert all(c.capability == "Webhook payment_intent.status_updated" for c in log)
    assert "HTTP 503 (attempt 4)" in (log[0].detail or "")


async def test_a_refused_connection_is_retried_and_logged(api: Api, platform: Platform) -> None:
    served = await start_server(Starlette())
    url = f"{served.url}/hook"
    await served.stop()  # nothing listens there any more
    await subscribe(api, url)
    await take_payment(platform, "pi_w3", amount=1000, tips=0)
    await platform.payments.deliverer.drain()
    failed = [r for r in platform.invoker.recent(scope_of()) if r.transport == "webhook"]
    assert len(failed) == 4 and all(r.failure == "TransportError" for r in failed)


async def test_a_rotated_secret_signs_from_its_activation(api: Api, platform: Platform,
                                                          receiver: Receiver) -> None:
    sub = await subscribe(api, receiver.url)
    _, secrets = await api.call("POST", "/webhooks/{subscriptionId}/secrets", subscriptionId=sub["id"])
    new = secrets["secrets"][1]
    await api.call("PUT", "/webhooks/{subscriptionId}/secrets/{secretId}/activate",
                   subscriptionId=sub["id"], secretId=new["id"])
    await take_payment(platform, "pi_w4", amount=1000, tips=0)
    await platform.payments.deliverer.drain()
    body, headers = receiver.got[0]
    assert verify_signature(body, headers["dojo-signature"], [new["value"]])
    assert not verify_signature(body, headers["dojo-signature"], [secrets["secrets"][0]["value"]])


def test_the_verifier_refuses_stale_and_malformed_headers() -> None:
    body = b'{"id":"evt_1"}'
    header = signature_header("s3cret", body, timestamp=1_700_000_000)
    assert verify_signature(body, header, ["s3cret"], now=1_700_000_100)
    assert not verify_signature(body, header, ["s3cret"], now=1_700_000_000 + 301)
    for bad in (None, "", "t=abc,v1=00", "v1=00", "t=1700000000", "garbage", "t=1,v1="):
        assert not verify_signature(body, bad, ["s3cret"], now=1_700_000_000)
    assert verify_signature(body, header, ["old", "s3cret"], now=1_700_000_000)


async def test_subscriptions_of_another_account_are_not_delivered(api: Api, http: httpx.AsyncClient,
                                                                  platform: Platform,
                                                                  receiver: Receiver) -> None:
    other = Api(http, auth_headers(software_house="anotherHouse"))
    await subscribe(other, receiver.url)
    await take_payment(platform, "pi_w5", amount=1000, tips=0)
    await platform.payments.deliverer.drain()
    assert receiver.got == []


async def test_deliveries_show_on_the_dashboards_calls_page(api: Api, http: httpx.AsyncClient,
                                                            platform: Platform,
                                                            receiver: Receiver) -> None:
    from dojo_epos.platform.dashboard.web import scope_token

    sub = await subscribe(api, receiver.url)
    receiver.statuses = [502]
    await take_payment(platform, "pi_w6", amount=1000, tips=0)
    await platform.payments.deliverer.drain()
    page = await http.get("/dashboard/calls", params={"scope": scope_token(scope_of())})
    assert page.status_code == 200
    assert page.text.count("Webhook payment_intent.status_updated") >= 2
    assert "HTTP 502 (attempt 1)" in page.text
    assert sub["secrets"][0]["value"] not in page.text  # the signing secret is never shown
