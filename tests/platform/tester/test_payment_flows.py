"""The Refund and Webhook flows against the reference EPOS, over REST and over the WebSocket.

The Webhook flow's receiver is the EPOS's webhook endpoint, written with plain Starlette on a real
loopback port (the platform POSTs to it): it records each event id once and acknowledges repeats.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dojo_epos.contract.payments import SearchPaymentIntentRequest
from dojo_epos.contract.tester_models import Status
from dojo_epos.epos.reference import ReferenceEpos
from dojo_epos.serving import start_server
from tests.platform.conftest import scope_of

from .conftest import RigFactory
from .test_flows import _explain, _failed_step


@dataclass
class Hook:
    """The EPOS's webhook endpoint: acknowledges with ``status``, records each event once."""

    status_for_repeat: int = 200
    recorded: dict[str, dict] = field(default_factory=dict)
    deliveries: list[tuple[bytes, str]] = field(default_factory=list)
    url: str = ""

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            self.deliveries.append((body, request.headers.get("dojo-signature", "")))
            event = json.loads(body)
            if event["id"] in self.recorded:
                return Response(status_code=self.status_for_repeat)
            self.recorded[event["id"]] = event
            return Response(status_code=200)
        return Starlette(routes=[Route("/dojo/webhooks", hook, methods=["POST"])])


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
    result = await rig.run("Webhook", url=hook.url)
    assert result.status is Status.SUCCESS, _explain(result)
    assert len(hook.deliveries) == 2 and len(hook.recorded) == 1
    assert len({json.loads(body)["id"] for body, _ in hook.deliveries}) == 1  # one event, twice
    assert all(signature.startswith("t=") and ",v1=" in signature for _, signature in hook.deliveries)
    assert await rig.platform.payments.subscriptions.all_of(scope_of()) == []  # cleaned up


@pytest.mark.socket
async def test_the_webhook_flow_fails_when_a_repeat_is_not_acknowledged(
        make_rig: RigFactory, reference: ReferenceEpos, hook: Hook) -> None:
    hook.status_for_repeat = 409
    rig = await make_rig(reference)
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
