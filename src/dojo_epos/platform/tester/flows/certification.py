"""Certification: for each Dojo product targeted, the sections that product needs, and a verdict.

A product is certified only when every section it needs ran and passed. What a product needs is
stated once, in :data:`PRODUCTS` (domain notes §2): a *required* section always, and a section marked
*when registered* as soon as one of its capabilities is registered (Pay at Table's locking flow is
mandatory only once lock capabilities are registered, §2.1), and a section marked *when given*
when the Certification parameter it needs is given: Webhooks runs with ``webhookUrl``. No product
requires webhooks (Dojo recommends subscribing to ``payment_intent.status_updated``, domain notes
§9; the go-live checklist has no webhook row, §6), so without the URL the section is left out and
the verdict says so in a line of its own; with it, the section counts like any other. The
capabilities of a section are its
flows' own (:attr:`FlowDef.capabilities`), so a section whose capabilities are missing fails on its
first step with Dojo's two sentences ("X method not found", "Please register the X method on an EPOS
Data API adapter"): a section that did not run is never SUCCESS.

The result begins with one verdict step per targeted product (SUCCESS, or FAILURE naming every
missing capability and every failed section); the sections of products not targeted are left out of
the steps and named once in the informational step :data:`NOT_TARGETED_STEP`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import Product
from dojo_epos.contract.errors import ErrorType
from dojo_epos.contract.tester_models import LEFT_OUT_PREFIX, NOT_TARGETED_STEP, Status

from ..engine import FlowDef, FlowRun, StepFailed, StepTimedOut
from ._common import _amount, _p, _uid
from ._resilient import seconds_check
from .bookings import BOOKINGS
from .locking import LOCK_CAPABILITIES, LOCK_ORDER
from .order_and_pay import ORDER_AND_PAY
from .orders import GET_BILL, GET_ORDER, LIST_AREAS, SEARCH_ORDERS, SEARCH_TABLES
from .pay_at_table import PAY_AT_TABLE
from .refunds_webhooks import REFUND, WEBHOOK, url_problem
from .resilience import RESILIENCE

__all__ = ["CERTIFICATION", "PRODUCTS", "SECTIONS", "Need", "Section", "parse_products"]


class Need(Enum):
    """How a product needs a section."""

    REQUIRED = "required"
    WHEN_REGISTERED = "when registered"
    WHEN_GIVEN = "when given"


@dataclass(frozen=True, slots=True)
class Section:
    """A part of the certification: the flow it runs, and whether it needs a payable order."""

    title: str
    flow: FlowDef
    needs_order: bool = False
    trigger: tuple[str, ...] = ()
    """For a section needed *when registered*: registering any of these makes it mandatory."""
    param: str | None = None
    """For a section needed *when given*: the Certification parameter that makes it run (and the
    flow's parameter it is passed as, :attr:`flow_param`)."""
    flow_param: str | None = None

    @property
    def capabilities(self) -> tuple[str, ...]:
        return self.flow.capabilities


ORDER_DETAIL = Section("Order detail", GET_ORDER, needs_order=True)
SEARCH = Section("Search", SEARCH_ORDERS)
TABLES = Section("Tables", SEARCH_TABLES, trigger=SEARCH_TABLES.capabilities)
AREAS = Section("Areas", LIST_AREAS)
BILL = Section("Bill", GET_BILL, needs_order=True, trigger=GET_BILL.capabilities)
LOCKING = Section("Locking", LOCK_ORDER, needs_order=True, trigger=LOCK_CAPABILITIES)
PAYMENTS = Section("Payments", PAY_AT_TABLE, needs_order=True)
#: A card payment refunded in part from the till (Pay at Counter's checklist makes a refund path
#: mandatory; issue 21). After Payments: with no order left to pay, it refunds Payments' last card
#: payment.
REFUNDS = Section("Refunds", REFUND)
#: The EPOS's webhook receiver: delivered twice, refused when forged (issue 21). Card payments'
#: products only. After Refunds (with no order left it uses the newest card payment), before
#: Resilience (which leaves the EPOS's socket reconnecting).
WEBHOOKS = Section("Webhooks", WEBHOOK, param="webhookUrl", flow_param="url")
ORDERING = Section("Order and Pay", ORDER_AND_PAY)
BOOKING = Section("Bookings", BOOKINGS)
#: The resilience flows that apply over the run's transport (issue 14): all of them on the
#: WebSocket; over REST the ones that need a socket are named as left out (see :mod:`.resilience`).
#: Last: its payments take another payable order, after Refunds has refunded Payments' one.
RESILIENCE_SECTION = Section("Resilience", RESILIENCE)

#: The order sections run in (Locking and Bill before Payments, which settles the order; Refunds
#: after it).
SECTIONS: tuple[Section, ...] = (ORDER_DETAIL, SEARCH, TABLES, AREAS, BILL, LOCKING, PAYMENTS,
                                 REFUNDS, WEBHOOKS, ORDERING, BOOKING, RESILIENCE_SECTION)

_R, _W, _G = Need.REQUIRED, Need.WHEN_REGISTERED, Need.WHEN_GIVEN

#: What each product needs (domain notes §2.1-§2.4).
PRODUCTS: Mapping[Product, tuple[tuple[Section, Need], ...]] = {
    Product.PAY_AT_TABLE: ((ORDER_DETAIL, _R), (SEARCH, _R), (BILL, _W), (LOCKING, _W), (REFUNDS, _R),
                           (PAYMENTS, _R), (RESILIENCE_SECTION, _R), (WEBHOOKS, _G)),
    Product.QR_PAY: ((ORDER_DETAIL, _R), (SEARCH, _R), (TABLES, _W), (LOCKING, _W), (REFUNDS, _R),
                     (PAYMENTS, _R), (RESILIENCE_SECTION, _R), (WEBHOOKS, _G)),
    Product.ORDER_AND_PAY: ((ORDERING, _R),),
    Product.BOOKINGS: ((TABLES, _R), (AREAS, _R), (BOOKING, _R)),
}


def _key(name: str) -> str:
    return " ".join(name.lower().replace("&", "and").split())


_PRODUCT_NAMES = {_key(p.value): p for p in Product}


def parse_products(value: Any) -> list[Product]:
    """The ``products`` parameter: a comma-separated list, any case; default all four products.

    ``&`` and ``and`` are the same (``Order and Pay`` is ``Order & Pay``). Raises ValueError naming
    the products when a name is unknown.
    """
    if value is None or str(value).strip() == "":
        return list(PRODUCTS)
    found: list[Product] = []
    for name in str(value).split(","):
        if not name.strip():
            continue
        product = _PRODUCT_NAMES.get(_key(name))
        if product is None:
            known = ", ".join(p.value for p in PRODUCTS)
            raise ValueError(f"unknown product {name.strip()!r} in parameter products; "
                             f"the products are: {known}")
        if product not in found:
            found.append(product)
    if not found:
        raise ValueError("parameter products names no product")
    return found


def _check_params(params: Mapping[str, Any]) -> str | None:
    try:
        parse_products(params.get("products"))
    except ValueError as exc:
        return str(exc)
    url = params.get("webhookUrl")
    if url is not None and str(url).strip():
        problem = url_problem(str(url).strip())
        if problem:
            return f"webhookUrl: {problem}"
    return seconds_check("delay", "reconnectWithin")(params)


def _given(params: Mapping[str, Any]) -> dict[str, str]:
    """The *when given* sections' parameters that were given (non-blank), stripped."""
    found: dict[str, str] = {}
    for section in SECTIONS:
        value = params.get(section.param) if section.param else None
        if section.param and value is not None and str(value).strip():
            found[section.param] = str(value).strip()
    return found


def _dojo_sentences(capability: str) -> list[str]:
    return [f"{capability} method not found",
            f"Please register the {capability} method on an EPOS Data API adapter"]


@dataclass
class _Plan:
    """Which sections run, for which products, and what each product is missing."""

    products: list[Product]
    registered: set[str]
    given: Mapping[str, str]

    def _wanted(self, section: Section, need: Need) -> bool:
        if need is Need.WHEN_GIVEN:
            return section.param in self.given
        return need is Need.REQUIRED or bool(set(section.trigger) & self.registered)

    def needed(self, product: Product) -> list[Section]:
        return [s for s, need in PRODUCTS[product] if self._wanted(s, need)]

    def not_given(self, product: Product) -> list[Section]:
        return [s for s, need in PRODUCTS[product]
                if need is Need.WHEN_GIVEN and not self._wanted(s, need)]

    def optional_unregistered(self, product: Product) -> list[Section]:
        return [s for s, need in PRODUCTS[product]
                if need is Need.WHEN_REGISTERED and not set(s.trigger) & self.registered]

    def missing(self, product: Product) -> list[str]:
        names: list[str] = []
        for section in self.needed(product):
            names += [c for c in section.capabilities if c not in self.registered and c not in names]
        return names

    def to_run(self) -> list[Section]:
        wanted = {s.title for p in self.products for s in self.needed(p)}
        return [s for s in SECTIONS if s.title in wanted]

    def left_out(self) -> list[tuple[Section, list[Product]]]:
        targeted = {s.title for p in self.products for s, _ in PRODUCTS[p]}
        return [(s, [p for p in PRODUCTS if any(x is s for x, _ in PRODUCTS[p])])
                for s in SECTIONS if s.title not in targeted]


async def _find_payable_order(run: FlowRun) -> tuple[str | None, str | None]:
    """An order (and its table) with an amount due, for the sections that need one."""
    async with run.step("Discover a payable order") as step:
        page: m.PagedOrdersResponse = await run.call(step, "SearchOrders", {"payableOnly": True})
        for order in page.data:
            if order.payable and _amount(order.total_amount) > _amount(order.paid_amount):
                table = order.details.dine_in.table_id if order.details.dine_in else None
                step.info(f"using order {order.id} on table {table}")
                return order.id, table
        step.info("no payable order with an amount due")
        return None, None


async def _negatives(run: FlowRun, section: Section, order_id: str) -> None:
    """Bad input a Dojo product can send gets the contract's error, never a result or a 5xx."""
    if section is ORDER_DETAIL:
        async with run.step("Unknown order is NotFound") as step:
            await run.call(step, "GetOrderById", {"orderId": _uid("no_such_order")},
                           expect_error=ErrorType.NOT_FOUND)
    if section is PAYMENTS:
        async with run.step("A malformed payment is InvalidRequest") as step:
            await run.call(step, "RecordOrderPayment", {
                "orderId": order_id, "paymentIntentId": _uid("pi"),
                "paidAmount": {"value": "ten", "currencyCode": "GBP"}},
                expect_error=ErrorType.INVALID_REQUEST)


async def _run_section(run: FlowRun, section: Section, order_id: str | None,
                       table_id: str | None) -> None:
    saved, saved_definition = run.params, run.definition
    run.definition = section.flow  # the flow's require() checks the flow's own capabilities
    # Search walks every payable order (what a terminal lists); Payments settles the discovered
    # order's table, as a waiter would; small pages make the cursors work.
    run.params = {"orderId": order_id, "tableId": table_id if section is PAYMENTS else None,
                  "splits": 2, "tip": 100, "pageSize": 3,
                  "delay": saved.get("delay") or DEFAULT_DELAY,
                  "reconnectWithin": saved.get("reconnectWithin") or None, **SOCKET_BOUNDS}
    if section.param and section.flow_param:
        run.params[section.flow_param] = str(saved.get(section.param) or "").strip()
    run.prefix = f"{section.title}: "
    try:
        if section.needs_order and order_id is None:
            await run.require()
            async with run.step("Find a payable order"):
                raise StepFailed("no payable order with an amount due was found (SearchOrders with "
                                 "payableOnly); open one on the EPOS and run Certification again")
        await section.flow.run(run)
        if order_id is not None:
            await _negatives(run, section, order_id)
    finally:
        run.params, run.definition, run.prefix = saved, saved_definition, ""


async def certification(run: FlowRun) -> None:
    """Per targeted product: the sections it needs, then its verdict (see the module docstring)."""
    products = parse_products(run.param("products"))
    verdicts = {p: await run.open_step(f"{p.value}: verdict") for p in products}
    plan = _Plan(products, await run.registered(), _given(run.params))
    left_out = plan.left_out()
    if left_out:
        async with run.step(NOT_TARGETED_STEP) as step:
            for section, users in left_out:
                step.info(f"{LEFT_OUT_PREFIX}{section.title} (for {', '.join(p.value for p in users)})")
            untargeted = [p.value for p in PRODUCTS if p not in products]
            step.info(f"not targeted: {', '.join(untargeted)} (choose with the products parameter)")
    sections = plan.to_run()
    order_id: str | None = None
    table_id: str | None = None
    if any(s.needs_order for s in sections) and "SearchOrders" in plan.registered:
        order_id, table_id = await _find_payable_order(run)
    outcome: dict[str, tuple[Status, str]] = {}
    for section in sections:
        try:
            await _run_section(run, section, order_id, table_id)
        except StepTimedOut as exc:
            outcome[section.title] = (Status.TIMED_OUT, exc.messages[0] if exc.messages else "")
        except StepFailed as exc:
            outcome[section.title] = (Status.FAILURE, exc.messages[0] if exc.messages else "")
        else:
            outcome[section.title] = (Status.SUCCESS, "")
    failed: list[str] = []
    timed_out_only = True
    for product, verdict in verdicts.items():
        status, lines = _verdict(plan, product, outcome)
        run.finish_step(verdict, status, lines)
        if status is not Status.SUCCESS:
            failed.append(lines[-1])
            timed_out_only = timed_out_only and status is Status.TIMED_OUT
    if failed:
        raise (StepTimedOut if timed_out_only else StepFailed)(*failed)


def _verdict(plan: _Plan, product: Product,
             outcome: Mapping[str, tuple[Status, str]]) -> tuple[Status, list[str]]:
    needed = plan.needed(product)
    missing = plan.missing(product)
    required = [c for s, need in PRODUCTS[product] if need is Need.REQUIRED for c in s.capabilities]
    lines = [f"requires {', '.join(dict.fromkeys(required))}"]
    for capability in missing:
        lines += _dojo_sentences(capability)
    statuses = []
    for section in needed:
        status, why = outcome.get(section.title, (Status.FAILURE, "did not run"))
        statuses.append(status)
        lines.append(f"{section.title}: {status.value}" + (f" ({why})" if why else ""))
    for section in plan.optional_unregistered(product):
        lines.append(f"{section.title}: not needed, {', '.join(section.trigger)} not registered")
    for section in plan.not_given(product):
        lines.append(f"{section.title}: not run, no {section.param} given (recommended, not "
                     "required)")
    bad = [s.title for s, st in zip(needed, statuses, strict=True) if st is not Status.SUCCESS]
    if not bad and not missing:
        lines.append(f"{product.value}: certified")
        return Status.SUCCESS, lines
    reasons = []
    if missing:
        reasons.append(f"missing {', '.join(missing)}")
    if bad:
        reasons.append(f"failed {', '.join(bad)}")
    lines.append(f"{product.value}: not certified ({'; '.join(reasons)})")
    only_timeouts = not missing and all(st in (Status.SUCCESS, Status.TIMED_OUT) for st in statuses)
    return (Status.TIMED_OUT if only_timeouts else Status.FAILURE), lines


#: The network delay of the Resilience section's Slow network flow (seconds; short, as it is paid
#: on every certification run).
DEFAULT_DELAY = 0.5
#: The socket flows' bounds in the Resilience section: short watches, paid on every certification
#: run over the WebSocket (an EPOS that is idle-silent or comes back after 4000 within them is still
#: caught; run Keepalive and Replaced socket alone for their longer default watches).
SOCKET_BOUNDS = {"pongWithin": 2, "idleFor": 1, "closedWithin": 2, "window": 1.5}

CERTIFICATION = FlowDef(
    "Certification",
    (_p("products", "string",
        "Comma-separated products to certify: Pay at Table, QR Pay, Order & Pay, Bookings "
        "(any case; default all four)"),
     _p("delay", "number", "Resilience: seconds the network adds in Slow network",
        default=f"{DEFAULT_DELAY:g}"),
     _p("reconnectWithin", "number",
        "Resilience: seconds the EPOS has to reconnect in Lost reply (WebSocket)", default="10"),
     _p("webhookUrl", "string",
        "The EPOS's webhook receiver URL (https; http to loopback locally): runs the Webhooks "
        "section for Pay at Table and QR Pay (left out without it: no product requires it)")),
    certification,
    "Per product: the sections it needs (domain notes §2), each a flow, and a verdict", (),
    check_params=_check_params)
