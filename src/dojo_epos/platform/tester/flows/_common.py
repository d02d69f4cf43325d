"""Helpers every flow module shares: parameters, ids, money, order checks and cursor walks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import ErrorType
from dojo_epos.contract.tester_models import Param

from ..engine import FlowRun, StepFailed

MAX_PAGES = 20


def _p(name: str, type_: str, description: str, *, required: bool = False,
       default: str | None = None) -> Param:
    return Param(name=name, type=type_, required=required, description=description, default=default)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _uid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def _money(value: int, currency: str) -> dict[str, Any]:
    return {"value": value, "currencyCode": currency}


def _amount(money: m.Money | None) -> int:
    return money.value if money is not None else 0


class OrderAmounts:
    """An order's amounts as a flow counts them: what the EPOS must report after each payment."""

    def __init__(self, order: m.Order) -> None:
        assert order.total_amount is not None
        self.order_id = order.id
        self.currency = order.total_amount.currency_code
        self.total = order.total_amount.value
        self.paid = _amount(order.paid_amount)
        self.tips = _amount(order.tips_amount)

    @property
    def due(self) -> int:
        return self.total - self.paid


def _as_bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "y"}


def _as_int(run: FlowRun, name: str, default: int, minimum: int = 0) -> int:
    raw = run.param(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise StepFailed(f"parameter {name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise StepFailed(f"parameter {name} must be at least {minimum}")
    return value


def _check_order_amounts(step: Any, order: m.Order) -> None:
    paid = sum(p.paid_amount.value for p in order.payments)
    tips = sum(_amount(p.tips_amount) for p in order.payments)
    if order.paid_amount is not None:
        step.check(order.paid_amount.value == paid,
                   f"paidAmount {order.paid_amount.value} is not the sum of the payments ({paid})")
    if order.tips_amount is not None and order.payments:
        step.check(order.tips_amount.value == tips,
                   f"tipsAmount {order.tips_amount.value} is not the sum of the tips ({tips})")
    if order.total_amount is not None and order.paid_amount is not None:
        step.check(order.paid_amount.value <= order.total_amount.value,
                   f"paidAmount {order.paid_amount.value} exceeds totalAmount "
                   f"{order.total_amount.value}")
        if order.paid_amount.value >= order.total_amount.value and order.total_amount.value > 0:
            step.check(order.payable is not True, "a fully paid order is still payable")
    currencies = {mo.currency_code for mo in (order.total_amount, order.paid_amount,
                                              order.tips_amount) if mo is not None}
    step.check(len(currencies) <= 1, f"the order mixes currencies {sorted(currencies)}")
    step.info(f"total {_amount(order.total_amount)}, paid {paid}, tips {tips}, "
              f"payable {order.payable}")


async def _page_through(run: FlowRun, step: Any, capability: str, body: dict[str, Any],
                        limit: int) -> list[Any]:
    """Follow ``after`` cursors to the end; every item must appear once."""
    items: list[Any] = []
    seen: set[str] = set()
    after: str | None = None
    for page_no in range(MAX_PAGES):
        cursor: dict[str, Any] = {"limit": limit}
        if after:
            cursor["after"] = after
        page = await run.call(step, capability, {**body, "cursor": cursor})
        step.check(len(page.data) <= limit,
                   f"page {page_no + 1} has {len(page.data)} items, more than limit {limit}")
        for item in page.data:
            key = getattr(item, "id", None) or repr(item)
            step.check(key not in seen, f"item {key} appears on two pages")
            seen.add(key)
            items.append(item)
        if page_no == 0:
            step.check(page.before is None, "the first page has a before cursor")
        if not page.after:
            break
        after = page.after
    else:
        step.info(f"stopped after {MAX_PAGES} pages")
    return items


async def _negative_cursor_checks(run: FlowRun, capability: str) -> None:
    async with run.step("Check malformed paging is refused with InvalidRequest") as step:
        await run.call(step, capability, {"cursor": {"limit": 101}},
                       expect_error=ErrorType.INVALID_REQUEST)
        await run.call(step, capability, {"cursor": {"limit": 5, "before": "a", "after": "b"}},
                       expect_error=ErrorType.INVALID_REQUEST)


def _expiry(seconds: int) -> str:
    return _iso(datetime.now(UTC) + timedelta(seconds=seconds))

