"""The dashboard's pure parts: traffic charts, health verdicts, call search, key labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dojo_epos.contract.tester_models import FlowResult, Status, StepResult
from dojo_epos.platform.accounts import key_label
from dojo_epos.platform.dashboard.callsearch import mentions
from dojo_epos.platform.dashboard.charts import percentile, traffic
from dojo_epos.platform.dashboard.health import verdicts
from dojo_epos.platform.store import CallRow

NOW = datetime(2026, 12, 1, 12, 30, 30, tzinfo=UTC)


def row(minutes_ago: float, outcome: str = "ok", *, ms: float = 10.0, expected: bool = False,
        capability: str = "GetOrderById", request: object = None, reply: object = None) -> CallRow:
    return CallRow(1, capability, "rest", outcome, None, request, reply, ms,
                   NOW - timedelta(minutes=minutes_ago), expected)


@pytest.mark.parametrize(("values", "share", "want"), [
    ([], 0.5, 0.0), ([5.0], 0.99, 5.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
    ([float(n) for n in range(1, 101)], 0.99, 99.0), ([float(n) for n in range(1, 101)], 0.5, 50.0),
])
def test_percentile_is_nearest_rank(values: list[float], share: float, want: float) -> None:
    assert percentile(values, share) == want


def test_the_hour_is_bucketed_by_minute_and_expected_refusals_are_not_errors() -> None:
    calls = [row(0), row(0, ms=30.0), row(1, "TimedOut", ms=500.0), row(2, "EposErrorReply", expected=True),
             row(61), row(-1), row(5, capability="SearchOrders")]
    found = traffic(calls, NOW)
    assert found.calls == 5  # an hour back and nothing from the future
    volume, latency, errors = found.charts
    assert sorted(b.title.split(": ")[1] for b in volume.bars) == ["1 calls", "1 calls", "1 calls", "2 calls"]
    assert [b.title for b in errors.bars] == [f"{(NOW - timedelta(minutes=1)):%H:%M}: 1 TimedOut"]
    assert "1 expected refusals from flows" in errors.summary and "1 TimedOut" in errors.summary
    assert latency.lines[0][0] and "p99 500.0 ms" in latency.summary
    got = {r.capability: r for r in found.rows}["GetOrderById"]
    assert (got.calls, got.errors, got.expected) == (4, 1, 1)
    only = traffic(calls, NOW, "SearchOrders")
    assert only.calls == 1 and len(only.rows) == 2  # the table still lists every capability


def test_an_empty_hour_says_so() -> None:
    found = traffic([], NOW)
    assert [c.summary for c in found.charts[:2]] == ["no calls in the last hour"] * 2
    assert found.charts[2].summary == "no errors" and not found.charts[0].bars


def step(name: str, status: Status = Status.SUCCESS) -> StepResult:
    return StepResult(name=name, status=status, started_at=NOW, finished_at=NOW)


def run(*steps: StepResult, name: str = "Certification through EPOS Data API",
        status: Status = Status.SUCCESS) -> FlowResult:
    return FlowResult(flow_id="123e4567-e89b-12d3-a456-426614174000", flow_name=name, status=status,
                      started_at=NOW, steps=list(steps))


def test_verdicts_per_product_come_from_the_newest_certification() -> None:
    failed = step("Pay at Table: verdict", Status.FAILURE)
    failed.additional_information = ["requires SearchOrders", "Pay at Table: not certified (failed Payments)"]
    newest = run(step("Registering Capabilities: get all registered capabilities"),
                 step("Payments: Record payment 1 of 2", Status.FAILURE), failed,
                 step("Order & Pay: verdict"), step("Order and Pay: Create the order"))
    older = run(step("Pay at Table: verdict"), step("Bookings: verdict"))
    other = run(step("Search orders"), name="Search Orders through EPOS Data API")
    found = {v.product: v for v in verdicts([other, newest, older])}
    assert found["Pay at Table"].verdict == "FAIL"
    assert found["Pay at Table"].failed_steps == ("Pay at Table: not certified (failed Payments)",)
    assert found["Order & Pay"].verdict == "PASS"
    # not targeted by the newest run: never PASS, whatever an older run said
    assert (found["Bookings"].verdict, found["QR Pay"].verdict) == ("NOT TARGETED", "NOT TARGETED")
    assert {v.verdict for v in verdicts([other])} == {"NOT RUN"}
    running = verdicts([run(step("Pay at Table: verdict", Status.IN_PROGRESS), status=Status.IN_PROGRESS)])
    assert running[0].verdict == "RUNNING"


def test_calls_are_found_by_exact_ids_in_bodies_paths_and_replies() -> None:
    ws = row(0, request={"params": {"orderId": "ord_1", "headers": {}}})
    rest = row(0, request={"method": "GET", "url": "http://epos/v1/orders/ord%201/bill"})
    page = row(0, reply={"status": 200, "body": {"data": [{"id": "ord_2"}]}})
    refused = row(0, "EposErrorReply", reply={"error": {"errorType": "NotFound", "traceId": "tr-9"}})
    assert mentions(ws, "orderId", "ord_1") and not mentions(ws, "orderId", "ord_")
    assert mentions(rest, "orderId", "ord 1") and not mentions(rest, "orderId", "bill")
    assert mentions(page, "orderId", "ord_2")
    assert mentions(refused, "traceId", "tr-9") and not mentions(refused, "traceId", "tr-")
    deep: object = "x"
    for _ in range(50):
        deep = {"a": deep}
    assert not mentions(row(0, request=deep), "orderId", "x")  # bounded, no recursion error
    # A WebSocket reply is logged as its frame: the frame's own id is the request's, not an order's.
    frame = row(0, reply={"jsonrpc": "2.0", "id": "r-7", "result": {"id": "ord_3"}})
    assert mentions(frame, "orderId", "ord_3") and not mentions(frame, "orderId", "r-7")


def test_a_key_label_is_its_prefix_and_last_four_characters() -> None:
    assert key_label("sk_sandbox_abcdef123456") == "sk_sandbox_…3456"
    assert key_label("sk_prod_zzzz9876") == "sk_prod_…9876"
