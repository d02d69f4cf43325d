"""Certification against EPOSes written by strangers (plain Starlette / plain websockets).

Each broken EPOS differs from the correct one by one defect, and Certification must fail it at the
step that catches that defect (over REST, and the wire-shape defect over the WebSocket too: see
BOTH_TRANSPORTS); the correct minimal Pay at Table EPOS (only the
three required capabilities, no locks) is certified for Pay at Table, on both transports.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dojo_epos.contract.tester_models import NOT_TARGETED_STEP, FlowResult, Status

from .strangers import Defect, OrderBook, serve_stranger

#: Every test runs on both transports, except the defect matrix (see BOTH_TRANSPORTS).
on_both = pytest.mark.parametrize("transport", ["rest", "ws"])


def _explain(result: FlowResult) -> str:
    return "\n".join(f"{s.status.value:11} {s.name}: {' | '.join(s.additional_information)[:400]}"
                     for s in result.steps)


def _first_failed_section_step(result: FlowResult) -> tuple[str, Status, list[str]]:
    for step in result.steps:
        if step.status is not Status.SUCCESS and not step.name.endswith(": verdict"):
            return step.name, step.status, step.additional_information
    raise AssertionError("no step failed:\n" + _explain(result))


def _verdict(result: FlowResult, product: str) -> tuple[Status, list[str]]:
    step = next(s for s in result.steps if s.name == f"{product}: verdict")
    return step.status, step.additional_information


@on_both
async def test_a_minimal_pay_at_table_epos_is_certified_for_pay_at_table(
    transport: str, tmp_path: Path
) -> None:
    async with serve_stranger(OrderBook(), transport, tmp_path) as rig:
        result = await rig.run("Certification", products="pay at TABLE", transport=transport)
    assert result.status is Status.SUCCESS, _explain(result)
    assert result.steps[0].name == "Pay at Table: verdict"
    assert f"transport: {transport} (asked for)" in result.steps[0].additional_information
    assert "Pay at Table: certified" in result.steps[0].additional_information
    assert all(s.status is Status.SUCCESS for s in result.steps)
    names = [s.name for s in result.steps]
    # the sections of the products not targeted are named once, not run
    info = next(s for s in result.steps if s.name == NOT_TARGETED_STEP)
    left_out = {line for line in info.additional_information if line.startswith("left out: ")}
    assert left_out == {"left out: Tables (for QR Pay, Bookings)", "left out: Areas (for Bookings)",
                        "left out: Order and Pay (for Order & Pay)", "left out: Bookings (for Bookings)"}
    assert not any(n.startswith(("Tables:", "Areas:", "Bookings:", "Order and Pay:")) for n in names)
    # no locks registered: the locking flow is not needed, and said so in the verdict, not as a step
    assert not any(n.startswith("Locking:") for n in names)
    assert any("Locking: not needed" in line for line in result.steps[0].additional_information)
    # the money checks ran
    for words in ("Payments: An overpayment is refused",
                  "Payments: A known paymentIntentId with another amount is refused",
                  "Payments: Retry payment 1 with the same paymentIntentId (counted once)",
                  "Payments: A settled order is not listed by SearchOrders with payableOnly"):
        assert words in names
    order = rig.book.orders["o1"]
    assert order.paid == order.total


@on_both
async def test_every_product_targeted_names_every_missing_capability(
    transport: str, tmp_path: Path
) -> None:
    async with serve_stranger(OrderBook(), transport, tmp_path) as rig:
        result = await rig.run("Certification")
    assert result.status is Status.FAILURE, _explain(result)
    assert [s.name for s in result.steps[:4]] == [
        "Pay at Table: verdict", "QR Pay: verdict", "Order & Pay: verdict", "Bookings: verdict"]
    assert _verdict(result, "Pay at Table")[0] is Status.SUCCESS
    assert _verdict(result, "QR Pay")[0] is Status.SUCCESS
    status, lines = _verdict(result, "Order & Pay")
    assert status is Status.FAILURE
    assert "CreateOrder method not found" in lines
    assert "Please register the CreateOrder method on an EPOS Data API adapter" in lines
    status, lines = _verdict(result, "Bookings")
    assert status is Status.FAILURE
    for capability in ("SearchTables", "ListAreas", "CreateReservation", "GetReservationById",
                       "UpdateReservationById", "SearchReservations", "DeleteReservationById",
                       "CreateParty", "GetPartyById", "UpdatePartyById", "SearchParties",
                       "DeletePartyById"):
        assert f"{capability} method not found" in lines, capability
    # the sections that could not run are FAILURE in Dojo's words, never SUCCESS
    step = next(s for s in result.steps if s.name.startswith("Order and Pay: Check whether"))
    assert step.status is Status.FAILURE
    assert step.additional_information[:2] == [
        "CreateOrder method not found",
        "Please register the CreateOrder method on an EPOS Data API adapter"]
    assert not any(s.name == NOT_TARGETED_STEP for s in result.steps)


@on_both
async def test_registering_lock_capabilities_makes_the_locking_flow_mandatory(
    transport: str, tmp_path: Path
) -> None:
    async with serve_stranger(OrderBook(locks=True, bill=True), transport, tmp_path) as rig:
        result = await rig.run("Certification", products="Pay at Table")
    assert result.status is Status.SUCCESS, _explain(result)
    names = [s.name for s in result.steps]
    assert "Locking: A payment without a lockId is refused while the order is locked" in names
    assert "Locking: Extend the lock" in names
    assert "Bill: Check the bill's order amounts" in names
    assert "Payments: Lock the order" in names


BROKEN = [
    (Defect.RETRY_COUNTED_TWICE, {}, "Payments: Retry payment 1 with the same paymentIntentId",
     "counted twice"),
    (Defect.OTHER_AMOUNT_ACCEPTED, {}, "Payments: A known paymentIntentId with another amount",
     "expected Conflict or InvalidRequest from RecordOrderPayment, got a result"),
    (Defect.STALE_READ, {}, "Payments: GetOrderById reflects payment 1", "GetOrderById reports paidAmount"),
    (Defect.PAYABLE_ONLY_IGNORED, {}, "Search: Check every order matches the filters", "o8 is not payable"),
    (Defect.OVERPAYMENT_ACCEPTED, {}, "Payments: An overpayment is refused",
     "expected Conflict or InvalidRequest from RecordOrderPayment, got a result"),
    (Defect.LOCK_NOT_ENFORCED, {"locks": True},
     "Locking: A payment without a lockId is refused while the order is locked",
     "expected Conflict from RecordOrderPayment, got a result"),
    (Defect.BILL_WRONG_TOTAL, {"bill": True}, "Bill: Check the bill's order amounts",
     "the bill does not add up to the order"),
    (Defect.CURSOR_SKIPS, {}, "Search: Check paging by 3 lists the same orders as pages of 100",
     "following the cursors skipped o4"),
    (Defect.CURSOR_REPEATS, {}, "Search: Search orders", "item o3 appears on two pages"),
    (Defect.SCHEMA_VIOLATION, {}, "Order detail: Call GetOrder with orderId o1", "status"),
]


#: The defects checked over the WebSocket too. Each defect lives in the order book's rules, which
#: both transports share (``OrderBook.call``), and the checks that catch it do not look at the
#: transport; what differs over the socket is the JSON-RPC envelope, so the wire-shape defect runs
#: on both and the others over REST only (a WebSocket Certification also runs the socket
#: resilience flows, about 4 s a run: the same ~9 runs again bought no further coverage).
BOTH_TRANSPORTS = {Defect.SCHEMA_VIOLATION}


def _broken_cases() -> list[object]:
    return [pytest.param(transport, *case, id=f"{case[0].value}-{transport}")
            for case in BROKEN for transport in ("rest", "ws")
            if transport == "rest" or case[0] in BOTH_TRANSPORTS]


@pytest.mark.parametrize(("transport", "defect", "options", "step_name", "words"), _broken_cases())
async def test_a_broken_epos_fails_certification_at_the_step_that_catches_it(
    transport: str, tmp_path: Path, defect: Defect, options: dict[str, bool], step_name: str,
    words: str,
) -> None:
    async with serve_stranger(OrderBook(defect, **options), transport, tmp_path) as rig:
        result = await rig.run("Certification", products="Pay at Table")
    assert result.status is Status.FAILURE, _explain(result)
    name, status, details = _first_failed_section_step(result)
    assert name.startswith(step_name), _explain(result)
    assert status is Status.FAILURE
    assert any(words in line for line in details), _explain(result)
    verdict, lines = _verdict(result, "Pay at Table")
    assert verdict is Status.FAILURE
    section = step_name.split(":", 1)[0]
    summary = next(line for line in lines if line.startswith("Pay at Table: not certified (failed "))
    assert section in summary


@on_both
async def test_a_reply_slower_than_the_call_time_out_is_timed_out(transport: str, tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(Defect.SLOW), transport, tmp_path, call_timeout=1.5) as rig:
        result = await rig.run("Certification", products="Pay at Table")
    assert result.status is Status.TIMED_OUT, _explain(result)
    name, status, details = _first_failed_section_step(result)
    assert name.startswith("Order detail: Call GetOrder"), _explain(result)
    assert status is Status.TIMED_OUT
    assert any("GetOrderById timed out" in line for line in details), details
    assert _verdict(result, "Pay at Table")[0] is Status.TIMED_OUT
