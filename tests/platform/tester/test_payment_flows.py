"""The Refund and Webhook flows against the reference EPOS, over REST and over the WebSocket.

The Webhook flow's receiver is the EPOS's webhook endpoint, written with plain Starlette on a real
loopback port (the platform POSTs to it): it verifies ``dojo-signature`` with its own HMAC code when
it holds its subscription's secret (it subscribed itself, as an EPOS does), records each event id
once and acknowledges repeats. One that holds no secret acknowledges whatever arrives.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dojo_epos.client import PlatformApiError
from dojo_epos.contract.payments import SearchPaymentIntentRequest, SubscriptionRequest
from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.epos.reference import ReferenceEpos
from dojo_epos.serving import start_server
from tests.platform.conftest import scope_of

from .conftest import Rig, RigFactory
from .test_flows import _explain, _failed_step


@dataclass
class Hook:
    """The EPOS's webhook endpoint: acknowledges with ``status``, records each event once."""

    status_for_repeat: int = 200
    recorded: dict[str, dict] = field(default_factory=dict)
    deliveries: list[tuple[bytes, str]] = field(default_factory=list)
    url: str = ""
    secret: str | None = None
    """The subscription's secret, once the EPOS subscribed (then every delivery is verified)."""

    def verifies(self, body: bytes, header: str) -> bool:
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        assert self.secret is not None
        mac = hmac.new(self.secret.encode(), parts.get("t", "").encode() + b"." + body,
                       hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, parts.get("v1", ""))

    async def subscribe(self, rig: Rig) -> None:
        """Subscribe as the EPOS does (before a run), keeping the secret."""
        made = await rig.platform.payments.subscriptions.subscribe(scope_of(), SubscriptionRequest(
            events=["payment_intent.status_updated"], url=self.url))
        self.secret = made.secrets[0].value

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            signature = request.headers.get("dojo-signature", "")
            self.deliveries.append((body, signature))
            if self.secret is not None and not self.verifies(body, signature):
                return Response(status_code=400)
            event = json.loads(body)
            if event["id"] in self.recorded:
                return Response(status_code=self.status_for_repeat)
            self.recorded[event["id"]] = event
            return Response(status_code=200)
        return Starlette(routes=[Route("/dojo/webhooks", hook, methods=["POST"])])


def check_flow_deliveries(hook: Hook) -> None:
    """The flow's event came twice and was recorded once, and its forged one was refused.

    The payments the flow took are delivered too (the EPOS is subscribed), each once.
    """
    checked = [(json.loads(body)["id"], hook.verifies(body, sig)) for body, sig in hook.deliveries]
    assert [ok for _, ok in checked].count(False) == 1  # the forged one
    genuine = [event_id for event_id, ok in checked if ok]
    assert len(genuine) - len(set(genuine)) == 1  # one event twice
    assert sorted(hook.recorded) == sorted(set(genuine))


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    found = Hook()
    served = await start_server(found.app())
    found.url = f"{served.url}/dojo/webhooks"
    yield found
    await served.stop()


async def test_the_refund_flow_refunds_part_and_checks_the_intent_and_the_epos(
        make_rig: RigFactory, reference: ReferenceEpos) -> None:
    rig = await make_rig(reference)
    result = await rig.run("Refund")
    assert result.status is Status.SUCCESS, _explain(result)
    intents = await rig.platform.payments.intents.search(scope_of(), SearchPaymentIntentRequest())
    (intent,) = intents.data  # the one payment the flow took
    assert intent.refunded_amount * 2 in (intent.amount.value, intent.amount.value - 1)
    assert intent.metadata == {"waiterId": "tester", "requestingProduct": "PayAtTable"}


@pytest.mark.socket
async def test_the_webhook_flow_delivers_twice_and_the_epos_records_once(
        make_rig: RigFactory, reference: ReferenceEpos, hook: Hook) -> None:
    rig = await make_rig(reference)
    await hook.subscribe(rig)
    result = await rig.run("Webhook", url=hook.url)
    assert result.status is Status.SUCCESS, _explain(result)
    check_flow_deliveries(hook)
    (kept,) = await rig.platform.payments.subscriptions.all_of(scope_of())  # the EPOS's own
    assert kept.url == hook.url


async def test_the_webhook_flow_fails_a_receiver_that_does_not_verify(
        make_rig: RigFactory, reference: ReferenceEpos, hook: Hook) -> None:
    """A receiver acknowledging a wrongly signed delivery fails at that step; the subscription
    the flow made for the run is deleted."""
    rig = await make_rig(reference)
    result = await rig.run("Webhook", url=hook.url)
    assert result.status is Status.FAILURE
    assert _failed_step(result) == "A delivery signed with a wrong secret is refused"
    assert "dojo-signature does not verify" in _explain(result)
    assert await rig.platform.payments.subscriptions.all_of(scope_of()) == []  # cleaned up


@pytest.mark.socket
async def test_the_webhook_flow_fails_when_a_repeat_is_not_acknowledged(
        make_rig: RigFactory, reference: ReferenceEpos, hook: Hook) -> None:
    hook.status_for_repeat = 409
    rig = await make_rig(reference)
    await hook.subscribe(rig)
    result = await rig.run("Webhook", url=hook.url)
    assert result.status is Status.FAILURE
    assert _failed_step(result) == "Deliver the event, then deliver it again under the same id"
    failed = next(s for s in result.steps if s.status is Status.FAILURE)
    assert any("HTTP 409" in line for line in failed.additional_information)


async def test_the_webhook_flow_refuses_a_url_dojo_would_refuse(
        make_rig: RigFactory, reference: ReferenceEpos) -> None:
    rig = await make_rig(reference)
    result = await rig.run("Webhook", url="http://epos.example/hook")
    assert result.status is Status.FAILURE
    assert _failed_step(result) == "Check the url parameter"


#: Certification over the WebSocket on NATS runs in test_flows (every flow against the reference
#: EPOS, Refunds among its sections); here the ws-nats runs of it bought no further coverage.
WS_NATS_ELSEWHERE = pytest.mark.rig_variants(drop=("ws-nats",))


@WS_NATS_ELSEWHERE
async def test_certification_refunds_a_card_payment_for_pay_at_table(
        make_rig: RigFactory, reference: ReferenceEpos) -> None:
    rig = await make_rig(reference)
    result = await rig.run("Certification", products="Pay at Table")
    assert result.status is Status.SUCCESS, _explain(result)
    refunds = [s.name for s in result.steps if s.name.startswith("Refunds: ")]
    assert any(name.startswith("Refunds: Refund ") for name in refunds), refunds
    assert "Refunds: Refund more than is left" in refunds
    intents = await rig.platform.payments.intents.search(scope_of(), SearchPaymentIntentRequest())
    assert sum(i.refunded_amount for i in intents.data) > 0
    # No webhookUrl: the Webhooks section is left out, said in the verdict, never SUCCESS.
    assert not [s for s in result.steps if s.name.startswith("Webhooks: ")]
    verdict = next(s for s in result.steps if s.name == "Pay at Table: verdict")
    assert "Webhooks: not run, no webhookUrl given (recommended, not required)" in \
        verdict.additional_information
    assert not any(line.startswith("Webhooks: SUCCESS") for line in verdict.additional_information)


def _section_failure(result: FlowResult) -> str:
    """The first failed step that is not a verdict."""
    return next(s.name for s in result.steps
                if s.status is not Status.SUCCESS and not s.name.endswith(": verdict"))


@pytest.mark.socket
@WS_NATS_ELSEWHERE
async def test_certification_runs_webhooks_when_a_url_is_given(
        make_rig: RigFactory, reference: ReferenceEpos, hook: Hook) -> None:
    """A verifying receiver passes; the verdict names the section's SUCCESS."""
    rig = await make_rig(reference)
    await hook.subscribe(rig)
    result = await rig.run("Certification", products="Pay at Table", webhookUrl=hook.url)
    assert result.status is Status.SUCCESS, _explain(result)
    steps = [s.name for s in result.steps if s.name.startswith("Webhooks: ")]
    assert "Webhooks: A delivery signed with a wrong secret is refused" in steps, steps
    verdict = next(s for s in result.steps if s.name == "Pay at Table: verdict")
    assert "Webhooks: SUCCESS" in verdict.additional_information
    check_flow_deliveries(hook)


@pytest.mark.socket
# The receiver's check is the platform POSTing to it over HTTP, the same whatever the EPOS's
# transport; the Webhooks section over the WebSocket runs in the test above (ws-memory).
@pytest.mark.rig_variants(drop=("ws-memory", "ws-nats"))
async def test_certification_fails_a_receiver_that_does_not_verify(
        make_rig: RigFactory, reference: ReferenceEpos, hook: Hook) -> None:
    """Pay at Table is not certified, and the failed step is the forged delivery's."""
    rig = await make_rig(reference)
    await hook.subscribe(rig)
    hook.secret = None  # subscribed, but it never checks the signature
    result = await rig.run("Certification", products="Pay at Table", webhookUrl=hook.url)
    assert result.status is Status.FAILURE
    assert _section_failure(result) == "Webhooks: A delivery signed with a wrong secret is refused"
    verdict = next(s for s in result.steps if s.name == "Pay at Table: verdict")
    assert "Pay at Table: not certified (failed Webhooks)" in verdict.additional_information


async def test_certification_refuses_a_webhook_url_dojo_would_refuse(
        make_rig: RigFactory, reference: ReferenceEpos) -> None:
    rig = await make_rig(reference)
    with pytest.raises(PlatformApiError) as refused:
        await rig.client.run_flow("Certification", {"webhookUrl": "http://epos.example/hook"})
    assert refused.value.status == 400 and "webhookUrl: url:" in str(refused.value)
