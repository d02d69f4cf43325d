"""The call-level resilience flows (Lost reply, Duplicate delivery, Slow network) against the
reference EPOS, over REST and over a real WebSocket held by our connector."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.epos.handler import RequestContext
from dojo_epos.epos.reference import ReferenceEpos
from dojo_epos.platform.tester.flows.resilience import NOT_OVER_REST_STEP
from tests.platform.conftest import scope_of

from .conftest import RigFactory
from .test_flows import _explain

#: Short watches for the socket flows the Resilience flow runs first (and Replaced socket last).
SOCKET_BOUNDS = {"pings": "2", "pongWithin": "2", "idleFor": "0.3", "closedWithin": "2",
                 "window": "1", "backoffWithin": "10"}

PARAMS: dict[str, dict[str, Any]] = {
    "Lost reply": {"reconnectWithin": "5"},
    "Duplicate delivery": {},
    "Slow network": {"delay": "0.2"},
    "Resilience": {"delay": "0.2", "reconnectWithin": "5", **SOCKET_BOUNDS},
}


async def _orders(reference: ReferenceEpos) -> list[m.Order]:
    ctx = RequestContext(capability="SearchOrders", transport="local")
    page = await reference.search_orders(m.SearchOrdersParams(cursor=m.Cursor(limit=100)), ctx)
    return list(page.data)


def _consistent(orders: list[m.Order]) -> None:
    """Every order's paidAmount is the sum of its payments, each paymentIntentId listed once."""
    for order in orders:
        intents = Counter(p.payment_intent_id for p in order.payments)
        assert all(n == 1 for n in intents.values()), (order.id, intents)
        paid = sum(p.paid_amount.value for p in order.payments)
        assert (order.paid_amount.value if order.paid_amount else 0) == paid, order.id


def _step_names(result: FlowResult) -> list[str]:
    return [s.name for s in result.steps]


def _by_bus(flow: str) -> list[Any]:
    """The single flows on the in-memory bus; the Resilience flow (all of them) on both."""
    return ["memory", "nats"] if flow == "Resilience" else ["memory"]


@pytest.mark.parametrize(("flow", "bus_kind"), [(f, b) for f in sorted(PARAMS) for b in _by_bus(f)])
async def test_each_resilience_flow_passes_against_the_reference_epos(
        flow: str, make_rig: RigFactory, reference: ReferenceEpos) -> None:
    rig = await make_rig(reference)
    before = {o.id: len(o.payments) for o in await _orders(reference)}
    result = await rig.run(flow, **PARAMS[flow])
    if flow == "Duplicate delivery" and rig.transport == "rest":
        assert result.status is Status.FAILURE, _explain(result)
        failed = next(s for s in result.steps if s.status is not Status.SUCCESS)
        assert failed.name == "Check the run is over the WebSocket"
        assert "does not apply over REST" in failed.additional_information[0]
        return
    assert result.status is Status.SUCCESS, _explain(result)
    assert all(s.status is Status.SUCCESS for s in result.steps), _explain(result)
    after = await _orders(reference)
    _consistent(after)
    recorded = sum(len(o.payments) for o in after) - sum(before.values())
    expected = {"Lost reply": 1, "Duplicate delivery": 2, "Slow network": 1,
                "Resilience": 4 if rig.transport == "ws" else 2}[flow]
    assert recorded == expected, _explain(result)  # each payment once, nothing lost
    assert rig.platform.invoker.faults.of(scope_of()) == []  # the flow cleared what it set
    names = _step_names(result)
    if flow == "Resilience":
        assert "Lost reply: GetOrderById counts the payment once" in names
        assert ("Not over REST" in names) is (rig.transport == "rest")
        if rig.transport == "rest":
            info = next(s for s in result.steps if s.name == NOT_OVER_REST_STEP)
            assert [line for line in info.additional_information if "left out" in line] == [
                "left out: Keepalive (over ws only)", "left out: Duplicate delivery (over ws only)",
                "left out: Reconnect (over ws only)", "left out: Replaced socket (over ws only)"]
        else:  # every socket flow ran, around the call-level ones
            flows = list(dict.fromkeys(n.split(": ", 1)[0] for n in names))
            assert flows == ["Keepalive", "Lost reply", "Duplicate delivery", "Slow network",
                             "Reconnect", "Replaced socket"], flows


@pytest.mark.parametrize("bus_kind", ["memory"])
async def test_lost_reply_over_the_websocket_reports_the_drop_and_the_times(
        make_rig: RigFactory, reference: ReferenceEpos) -> None:
    rig = await make_rig(reference)
    if rig.transport == "rest":
        result = await rig.run("Lost reply")
        assert result.status is Status.SUCCESS, _explain(result)
        first = next(s for s in result.steps if s.name.startswith("Record a payment"))
        assert any("rest-retry-after-timeout" in line for line in first.additional_information)
        return
    result = await rig.run("Lost reply", reconnectWithin="5")
    assert result.status is Status.SUCCESS, _explain(result)
    steps = {s.name: s.additional_information for s in result.steps}
    dropped = steps["Record a payment; the socket is dropped before the answer"]
    assert any("drop-after-send" in line for line in dropped)
    assert any("transport-error" in line or "TransportError" in line or "transport_error" in line
               for line in dropped), dropped
    back = steps["The EPOS reconnects within 5 s"]
    assert any(line.startswith("reconnected ") for line in back)
    resent = steps["Re-send the payment with the same paymentIntentId: recorded once"]
    assert any(line.startswith("first good answer ") for line in resent)
