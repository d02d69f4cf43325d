"""The payment storm: virtual card terminals paying random parts of random orders, then a reckoning.

Each terminal loops: fetch a random order, maybe lock it (a few "hot" orders are fought over by many
terminals at once), pay a random part of what is due with a random tip, release the lock. A payment
whose answer is lost (client time-out, 5xx, dropped connection, a server killed mid-request) is sent
again with the *same* paymentIntentId until it gets a definite answer. Some requests are given an
absurdly short client time-out on purpose, so the server commits a payment whose answer nobody reads.

Every intent ends in one of four buckets: acknowledged (200), refused (409 Conflict, no earlier
attempt lost), uncertain (a lost attempt and then a Conflict: the lost one may still have landed) or
unknown (retries exhausted). :func:`reconcile` then checks the database and the wire: each order's
paidAmount is the sum of its distinct stored payments and never above its total; every acknowledged
payment is stored exactly once with its amounts; nothing refused is stored; nothing is stored that no
terminal sent.

Two ways to pay: :class:`RestRoute` (HTTP to any of several EPOS server processes) and
:class:`PlatformRoute` (through the local platform's ``invoke``, its gateway and a connector's socket).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import func, select

from dojo_epos.contract.capabilities import lookup
from dojo_epos.contract.restmap import rest_request_for
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference import till
from dojo_epos.epos.reference.db import Database
from dojo_epos.epos.reference.menu import MENU, line
from dojo_epos.epos.reference.schema import create_schema
from dojo_epos.epos.reference.seed import seed_premises
from dojo_epos.platform.container import Platform
from dojo_epos.platform.outcome import Failure

OK, CONFLICT, RETRY, REFUSED = "ok", "conflict", "retry", "refused"


@dataclass
class Answer:
    kind: str
    """``ok``, ``conflict``, ``retry`` (answer lost or 5xx: send again) or ``refused`` (other 4xx)."""
    body: Any = None
    detail: str = ""


class Route(Protocol):
    name: str

    async def call(self, capability: str, params: dict[str, Any], timeout: float) -> Answer: ...


class RestRoute:
    """Calls the EPOS's REST app on one of several servers (picked at random per request)."""

    name = "rest"

    def __init__(self, base_urls: Sequence[str], username: str, password: str) -> None:
        self.base_urls = list(base_urls)
        self.http = httpx.AsyncClient(auth=(username, password),
                                      limits=httpx.Limits(max_connections=200))

    async def call(self, capability: str, params: dict[str, Any], timeout: float) -> Answer:
        request = rest_request_for(lookup(capability), params)
        url = random.choice(self.base_urls) + request.path
        try:
            response = await self.http.request(request.method, url, json=request.body,
                                               headers=request.headers, timeout=timeout)
        except httpx.HTTPError as exc:  # time-outs, resets, refused connections
            return Answer(RETRY, detail=type(exc).__name__)
        if response.status_code == 200:
            return Answer(OK, response.json())
        if response.status_code == 409:
            return Answer(CONFLICT, response.json())
        if response.status_code >= 500:
            return Answer(RETRY, detail=f"HTTP {response.status_code}")
        return Answer(REFUSED, detail=f"HTTP {response.status_code}: {response.text[:300]}")

    async def aclose(self) -> None:
        await self.http.aclose()


class PlatformRoute:
    """Calls through the local platform: invoke -> gateway -> socket -> connector -> handler."""

    name = "ws"

    def __init__(self, platform: Platform, scopes: Sequence[Any]) -> None:
        self.platform = platform
        self.scopes = list(scopes)

    async def call(self, capability: str, params: dict[str, Any], timeout: float) -> Answer:
        outcome = await self.platform.invoke(random.choice(self.scopes), capability, params,
                                             transport="ws", timeout=timeout)
        if outcome.ok:
            return Answer(OK, outcome.result_wire("ws"))
        if outcome.failure is Failure.EPOS_ERROR and outcome.error is not None:
            if outcome.error.error_type.value == "Conflict":
                return Answer(CONFLICT, outcome.error.to_wire())
            if outcome.error.error_type.value == "UnexpectedError":
                return Answer(RETRY, detail=str(outcome.error))
            return Answer(REFUSED, detail=str(outcome.error))
        if outcome.failure in (Failure.TIMED_OUT, Failure.TRANSPORT_ERROR, Failure.NOT_CONNECTED):
            return Answer(RETRY, detail=f"{outcome.failure}: {outcome.detail}")
        return Answer(REFUSED, detail=f"{outcome.failure}: {outcome.detail}")


@dataclass
class Intent:
    order_id: str
    paid: int
    tips: int
    lock_id: str | None
    route: str
    attempts: int = 0
    lost: int = 0
    outcome: str = ""


@dataclass
class StormResult:
    intents: dict[str, Intent] = field(default_factory=dict)
    conflicts: int = 0
    retries: int = 0
    refused: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def acknowledged(self) -> list[str]:
        return [k for k, v in self.intents.items() if v.outcome == OK]


@dataclass
class StormConfig:
    terminals: int = 20
    payments: int = 200
    """Stop once this many payment intents have been started."""
    hot_orders: int = 3
    lock_share: float = 0.3
    lost_answer_share: float = 0.05
    """Share of payment requests sent with a client time-out too short to read the answer."""
    max_attempts: int = 30
    timeout: float = 10.0
    seed: int = 0


async def prepare(db_url: str, orders: int, seed: int = 0) -> list[str]:
    """Schema, premises and ``orders`` open orders with random dishes; their ids."""
    rng = random.Random(seed)
    db = Database(db_url)
    try:
        await create_schema(db)
        await seed_premises(db)
        ids = []
        plus = [plu for plu, entry in MENU.items() if not entry.parts]
        for n in range(orders):
            items = [line(rng.choice(plus), rng.randint(1, 3)) for _ in range(rng.randint(1, 4))]
            order = await till.open_order(db, f"T{n % 12 + 1}", None, items,
                                          order_id=f"ord_storm_{n:05d}")
            ids.append(order.id)
        return ids
    finally:
        await db.dispose()


class Storm:
    def __init__(self, routes: Sequence[Route], order_ids: Sequence[str], config: StormConfig):
        self.routes = list(routes)
        self.order_ids = list(order_ids)
        self.hot = self.order_ids[: config.hot_orders]
        self.config = config
        self.result = StormResult()
        self._started = 0
        self.settled: set[str] = set()  # orders seen not payable: nothing left to pay on them

    async def run(self) -> StormResult:
        loop = asyncio.get_running_loop()
        began = loop.time()
        await asyncio.gather(*(self.terminal(random.Random(self.config.seed * 1000 + n))
                               for n in range(self.config.terminals)))
        self.result.seconds = loop.time() - began
        return self.result

    def open_orders(self, among: Sequence[str]) -> list[str]:
        return [o for o in among if o not in self.settled]

    async def terminal(self, rng: random.Random) -> None:
        # Ends at the payment budget, or when every order is paid in full.
        while self._started < self.config.payments and self.open_orders(self.order_ids):
            route = rng.choice(self.routes)
            hot = rng.random() < self.config.lock_share and bool(self.open_orders(self.hot))
            order_id = rng.choice(self.open_orders(self.hot if hot else self.order_ids))
            if hot:
                await self.locked_session(route, order_id, rng)
            else:
                await self.pay(route, order_id, None, rng)

    async def get_order(self, route: Route, order_id: str) -> Any:
        self.result.requests += 1
        answer = await route.call("GetOrderById", {"orderId": order_id, "headers": {}},
                                  self.config.timeout)
        return answer.body if answer.kind == OK else None

    async def locked_session(self, route: Route, order_id: str, rng: random.Random) -> None:
        lock_id = f"lock_{uuid.uuid4().hex[:12]}"
        expiry = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
        self.result.requests += 1
        answer = await route.call("CreateOrderLock", {"orderId": order_id, "lockId": lock_id,
                                                      "expiry": expiry, "headers": {}},
                                  self.config.timeout)
        if answer.kind == CONFLICT:
            self.result.conflicts += 1
            return
        if answer.kind != OK:
            return
        try:
            for _ in range(rng.randint(1, 2)):
                await self.pay(route, order_id, lock_id, rng)
        finally:
            for _ in range(5):  # release; a lost answer is retried, the lock is idempotent to drop
                self.result.requests += 1
                released = await route.call("DeleteOrderLock", {
                    "orderId": order_id, "lockId": lock_id, "headers": {}}, self.config.timeout)
                if released.kind != RETRY:
                    break

    async def pay(self, route: Route, order_id: str, lock_id: str | None,
                  rng: random.Random) -> None:
        order = await self.get_order(route, order_id)
        if order is None:
            return
        if not order.get("payable"):
            self.settled.add(order_id)
            return
        due = order["totalAmount"]["value"] - order.get("paidAmount", {}).get("value", 0)
        if due <= 0 or self._started >= self.config.payments:
            return
        self._started += 1
        paid = due if rng.random() < 0.1 else rng.randint(1, max(1, due // 3))
        tips = rng.choice([0, 0, 50, 100, paid // 10])
        intent_id = f"pi_{uuid.uuid4().hex}"
        intent = Intent(order_id, paid, tips, lock_id, route.name)
        self.result.intents[intent_id] = intent
        params: dict[str, Any] = {
            "orderId": order_id, "paymentIntentId": intent_id, "headers": {},
            "paidAmount": {"value": paid, "currencyCode": "GBP"},
            "tipsAmount": {"value": tips, "currencyCode": "GBP"}}
        if lock_id is not None:
            params["lockId"] = lock_id
        while intent.attempts < self.config.max_attempts:
            intent.attempts += 1
            if intent.attempts > 1:
                self.result.retries += 1
            lose = rng.random() < self.config.lost_answer_share
            timeout = rng.uniform(0.001, 0.02) if lose else self.config.timeout
            self.result.requests += 1
            answer = await route.call("RecordOrderPayment", params, timeout)
            if answer.kind == RETRY:
                intent.lost += 1
                await asyncio.sleep(min(0.5, 0.02 * intent.attempts))
                continue
            if answer.kind == OK:
                intent.outcome = OK
            elif answer.kind == CONFLICT:
                self.result.conflicts += 1
                intent.outcome = "uncertain" if intent.lost else CONFLICT
            else:
                intent.outcome = REFUSED
                self.result.refused.append(f"{intent_id}: {answer.detail}")
            return
        intent.outcome = "unknown"


@dataclass
class Reckoning:
    orders: int
    stored: int
    problems: list[str]


async def reconcile(db_url: str, result: StormResult, order_ids: Sequence[str],
                    wire: Route | None = None) -> Reckoning:
    """Check every order and every payment against what the terminals were told."""
    problems: list[str] = []
    db = Database(db_url)
    try:
        async with db.read() as conn:
            rows = (await conn.execute(select(s.payments))).all()
            orders = {r.id: r for r in (await conn.execute(
                select(s.orders).where(s.orders.c.id.in_(list(order_ids))))).all()}
            twice = (await conn.execute(
                select(s.payments.c.payment_intent_id, func.count())
                .group_by(s.payments.c.payment_intent_id).having(func.count() > 1))).all()
    finally:
        await db.dispose()
    problems += [f"payment intent {i} stored {n} times" for i, n in twice]
    stored = {r.payment_intent_id: r for r in rows if r.source == "dojo"}
    for intent_id, intent in result.intents.items():
        row = stored.get(intent_id)
        if intent.outcome == OK:
            if row is None:
                problems.append(f"{intent_id} acknowledged but not stored")
            elif (row.order_id, row.paid_amount, row.tips_amount) != (
                    intent.order_id, intent.paid, intent.tips):
                problems.append(f"{intent_id} stored as {row.order_id} {row.paid_amount}+"
                                f"{row.tips_amount}, sent {intent.order_id} {intent.paid}+"
                                f"{intent.tips}")
        elif intent.outcome in (CONFLICT, REFUSED) and row is not None:
            problems.append(f"{intent_id} refused ({intent.outcome}) but stored")
    problems += [f"{i} stored but never sent" for i in stored if i not in result.intents]
    per_order: dict[str, list[Any]] = {}
    for row in rows:
        per_order.setdefault(row.order_id, []).append(row)
    for order_id in order_ids:
        order = orders[order_id]
        payments = per_order.get(order_id, [])
        paid = sum(p.paid_amount for p in payments)
        tips = sum(p.tips_amount for p in payments)
        if (order.paid_amount, order.tips_amount) != (paid, tips):
            problems.append(f"{order_id}: paidAmount {order.paid_amount} tips {order.tips_amount}, "
                            f"payments add up to {paid} tips {tips}")
        if paid > order.total_amount:
            problems.append(f"{order_id}: paid {paid} is more than the total {order.total_amount}")
        if wire is not None and payments:
            answer = await wire.call("GetOrderById", {"orderId": order_id, "headers": {}}, 30)
            body = answer.body or {}
            on_wire = sorted(p["paymentIntentId"] for p in body.get("payments", []))
            if on_wire != sorted(p.payment_intent_id for p in payments) or \
                    body.get("paidAmount", {}).get("value") != paid:
                problems.append(f"{order_id}: GetOrderById disagrees with the database")
    return Reckoning(len(order_ids), len(rows), problems)
