"""EPOSes written by strangers: an in-memory order book served with plain Starlette or plain websockets.

Nothing here uses dojo-epos's EPOS side (no ``EposHandler``, no REST app builder, no connector, no
models): the routes, the JSON-RPC envelope and the JSON are written by hand from Dojo's published
contract, the way an EPOS engineer in another language would. One :class:`OrderBook` holds the state
and the rules; a :class:`Defect` switch breaks exactly one rule, so each broken EPOS differs from the
correct one in one place. ``serve_stranger`` registers the book with a local platform over ``rest``
(the platform reaches the Starlette app through httpx's ASGI transport) or ``ws`` (the book connects
a real socket to the platform's gateway) and hands back something to run flows with.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from dojo_epos.client import AsyncClient
from dojo_epos.contract.tester_models import FlowResult
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.serving import start_server
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, scope_of

USER, PASSWORD = "stranger", "stranger-password-1"
PAT_CAPABILITIES = ["SearchOrders", "GetOrderById", "RecordOrderPayment"]
LOCK_CAPABILITIES = ["CreateOrderLock", "DeleteOrderLock", "ExtendOrderLock"]


class Defect(StrEnum):
    """One broken rule (NONE: a correct EPOS)."""

    NONE = "none"
    RETRY_COUNTED_TWICE = "retry-counted-twice"
    OTHER_AMOUNT_ACCEPTED = "other-amount-accepted"
    STALE_READ = "stale-read"
    PAYABLE_ONLY_IGNORED = "payable-only-ignored"
    OVERPAYMENT_ACCEPTED = "overpayment-accepted"
    LOCK_NOT_ENFORCED = "lock-not-enforced"
    BILL_WRONG_TOTAL = "bill-wrong-total"
    CURSOR_SKIPS = "cursor-skips"
    CURSOR_REPEATS = "cursor-repeats"
    SCHEMA_VIOLATION = "schema-violation"
    SLOW = "slow"


class Refused(Exception):
    """An EPOSError answer: errorType and debugMessage."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type

    def body(self) -> dict[str, Any]:
        return {"errorType": self.error_type, "debugMessage": str(self)}


HTTP_STATUS = {"NotFound": 404, "InvalidRequest": 400, "Conflict": 409, "UnexpectedError": 500}


def _money(value: int) -> dict[str, Any]:
    return {"value": value, "currencyCode": "GBP"}


@dataclass
class _Order:
    id: str
    table: str
    total: int
    payments: list[dict[str, Any]] = field(default_factory=list)
    first_paid: int | None = None  # what a stale read reports

    @property
    def paid(self) -> int:
        return sum(p["paidAmount"]["value"] for p in self.payments)

    @property
    def tips(self) -> int:
        return sum(p.get("tipsAmount", {}).get("value", 0) for p in self.payments)


class OrderBook:
    """Seven payable dine-in orders and one fully paid one, with Pay at Table's rules."""

    def __init__(self, defect: Defect = Defect.NONE, *, locks: bool = False, bill: bool = False,
                 slow_seconds: float = 4.0) -> None:
        self.defect, self.locks, self.bill = defect, locks, bill
        self.slow_seconds = slow_seconds  # how long a SLOW book takes over GetOrderById
        self.orders = {f"o{n}": _Order(f"o{n}", f"T{n}", 1000 + 250 * n) for n in range(1, 8)}
        paid = _Order("o8", "T8", 1200)
        paid.payments.append({"paymentIntentId": "pi_old", "paidAmount": _money(1200)})
        self.orders[paid.id] = paid
        self.held: dict[str, str] = {}  # orderId -> lockId

    def capabilities(self) -> list[str]:
        return PAT_CAPABILITIES + (LOCK_CAPABILITIES if self.locks else []) + \
            (["GetOrderBill"] if self.bill else [])

    # -- the wire shape -----------------------------------------------------------------------

    def _wire(self, order: _Order, *, read: bool = False) -> dict[str, Any]:
        paid = order.paid
        if read and self.defect is Defect.STALE_READ:
            paid = order.first_paid if order.first_paid is not None else paid
        body: dict[str, Any] = {
            "id": order.id, "status": "Accepted",
            "details": {"orderType": "DineIn", "dineIn": {"tableId": order.table}},
            "items": [{"name": "Fish and chips", "plu": "F1", "quantity": 1,
                       "amountPerItem": _money(order.total)}],
            "totalAmount": _money(order.total), "paidAmount": _money(paid),
            "payments": order.payments, "payable": paid < order.total,
            "displayName": f"Table {order.table[1:]}",
        }
        if order.tips:
            body["tipsAmount"] = _money(order.tips)
        if read and self.defect is Defect.SCHEMA_VIOLATION:
            del body["status"]
        return body

    def _order(self, params: dict[str, Any]) -> _Order:
        order = self.orders.get(str(params.get("orderId")))
        if order is None:
            raise Refused("NotFound", f"no order {params.get('orderId')!r}")
        return order

    # -- the capabilities ---------------------------------------------------------------------

    async def call(self, capability: str, params: dict[str, Any]) -> Any:
        if capability == "SearchOrders":
            return self._search(params)
        if capability == "GetOrderById":
            if self.defect is Defect.SLOW:
                await asyncio.sleep(self.slow_seconds)
            return self._wire(self._order(params), read=True)
        if capability == "RecordOrderPayment":
            return self._pay(params)
        if capability == "GetOrderBill" and self.bill:
            order = self._wire(self._order(params))
            if self.defect is Defect.BILL_WRONG_TOTAL:
                order["totalAmount"] = _money(order["totalAmount"]["value"] + 100)
            return {"header": {"lines": []}, "order": order, "footer": {"lines": []}}
        if capability in LOCK_CAPABILITIES and self.locks:
            return self._lock(capability, params)
        raise Refused("NotFound", f"{capability} is not offered")

    def _search(self, params: dict[str, Any]) -> dict[str, Any]:
        cursor = params.get("cursor") or {}
        limit = cursor.get("limit", 10)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
            raise Refused("InvalidRequest", "cursor.limit must be 1 to 100")
        if cursor.get("before") and cursor.get("after"):
            raise Refused("InvalidRequest", "give before or after, not both")
        table = (params.get("dineIn") or {}).get("tableId")
        found = sorted(self.orders.values(), key=lambda o: o.id)
        if params.get("payableOnly") and self.defect is not Defect.PAYABLE_ONLY_IGNORED:
            found = [o for o in found if o.paid < o.total]
        if table:
            found = [o for o in found if o.table == table]
        after = cursor.get("after")
        if after:
            found = [o for o in found if o.id > after]
        page, rest = found[:limit], found[limit:]
        body: dict[str, Any] = {"data": [self._wire(o) for o in page]}
        if rest:
            next_after = page[-1].id
            if self.defect is Defect.CURSOR_SKIPS:
                next_after = rest[0].id
            elif self.defect is Defect.CURSOR_REPEATS and len(page) > 1:
                next_after = page[-2].id
            body["after"] = next_after
        return body

    def _pay(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self._order(params)
        amount = params.get("paidAmount")
        intent = params.get("paymentIntentId")
        if not isinstance(intent, str) or not isinstance(amount, dict) or \
                not isinstance(amount.get("value"), int) or amount.get("currencyCode") != "GBP":
            raise Refused("InvalidRequest", "paymentIntentId and paidAmount (GBP, minor units) are needed")
        holder = self.held.get(order.id)
        if holder is not None and params.get("lockId") != holder and \
                self.defect is not Defect.LOCK_NOT_ENFORCED:
            raise Refused("Conflict", f"order {order.id} is locked by {holder}")
        payment = {"paymentIntentId": intent, "paidAmount": {"value": amount["value"], "currencyCode": "GBP"}}
        tips = params.get("tipsAmount")
        if isinstance(tips, dict) and isinstance(tips.get("value"), int):
            payment["tipsAmount"] = {"value": tips["value"], "currencyCode": "GBP"}
        known = next((p for p in order.payments if p["paymentIntentId"] == intent), None)
        if known is not None and self.defect is not Defect.RETRY_COUNTED_TWICE:
            if known == payment:
                return self._wire(order)
            if self.defect is not Defect.OTHER_AMOUNT_ACCEPTED:
                raise Refused("Conflict", f"payment {intent} was recorded with other amounts")
        if amount["value"] > order.total - order.paid and self.defect is not Defect.OVERPAYMENT_ACCEPTED:
            raise Refused("Conflict", f"{amount['value']} is more than the {order.total - order.paid} due")
        if order.first_paid is None:
            order.first_paid = order.paid
        order.payments.append(payment)
        return self._wire(order)

    def _lock(self, capability: str, params: dict[str, Any]) -> dict[str, Any]:
        order = self._order(params)
        lock_id = params.get("lockId")
        holder = self.held.get(order.id)
        if capability == "CreateOrderLock":
            if holder is not None and holder != lock_id:
                raise Refused("Conflict", f"order {order.id} is locked by {holder}")
            self.held[order.id] = str(lock_id)
            return self._wire(order)
        if capability == "ExtendOrderLock":
            if holder != lock_id:
                raise Refused("NotFound", f"no lock {lock_id}")
            return {}
        if holder == lock_id:
            del self.held[order.id]
        return self._wire(order)


# -- served over REST: a plain Starlette app --------------------------------------------------

_ROUTES = [
    ("POST", "/v1/orders/search", "SearchOrders"),
    ("GET", "/v1/orders/{orderId}", "GetOrderById"),
    ("POST", "/v1/orders/{orderId}/record-payment", "RecordOrderPayment"),
    ("GET", "/v1/orders/{orderId}/bill", "GetOrderBill"),
    ("POST", "/v1/orders/{orderId}/lock", "CreateOrderLock"),
    ("PUT", "/v1/orders/{orderId}/locks/{lockId}", "ExtendOrderLock"),
    ("DELETE", "/v1/orders/{orderId}/locks/{lockId}", "DeleteOrderLock"),
]


def rest_app(book: OrderBook) -> Starlette:
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def endpoint(capability: str) -> Any:
        async def serve(request: Request) -> Response:
            if request.headers.get("authorization") != expected:
                return JSONResponse({"errorType": "InvalidRequest", "debugMessage": "who are you"}, 401)
            params: dict[str, Any] = dict(request.path_params)
            if request.method in ("POST", "PUT"):
                try:
                    body = json.loads(await request.body() or b"{}")
                except ValueError:
                    return JSONResponse({"errorType": "InvalidRequest", "debugMessage": "bad JSON"}, 400)
                if not isinstance(body, dict):
                    return JSONResponse({"errorType": "InvalidRequest", "debugMessage": "not an object"}, 400)
                params.update(body)
            try:
                return JSONResponse(await book.call(capability, params))
            except Refused as exc:
                return JSONResponse(exc.body(), HTTP_STATUS[exc.error_type])
        return serve

    return Starlette(routes=[Route(path, endpoint(cap), methods=[method])
                             for method, path, cap in _ROUTES])


# -- served over the WebSocket: a plain websockets client -------------------------------------

_METHODS = {
    "SearchOrdersV1": "SearchOrders", "GetOrderByIdV1": "GetOrderById",
    "RecordOrderPaymentByIdV1": "RecordOrderPayment", "GetOrderBillByIdV1": "GetOrderBill",
    "CreateOrderLockV1": "CreateOrderLock", "ExtendOrderLockV1": "ExtendOrderLock",
    "DeleteOrderLockV1": "DeleteOrderLock",
}


async def _answer(sock: Any, book: OrderBook, frame: dict[str, Any]) -> None:
    reply: dict[str, Any] = {"jsonrpc": "2.0", "id": frame.get("id"), "method": frame.get("method")}
    capability = _METHODS.get(str(frame.get("method")))
    try:
        if capability is None:
            raise Refused("NotFound", f"unknown method {frame.get('method')}")
        reply["result"] = await book.call(capability, dict(frame.get("params") or {}))
    except Refused as exc:
        reply["error"] = exc.body()
    with contextlib.suppress(ConnectionClosed):  # dropped meanwhile: the answer is lost
        await sock.send(json.dumps(reply))


async def ws_epos(book: OrderBook, url: str, connected: asyncio.Event, *,
                  reconnect: float | None = 0.05) -> None:
    """Connect and answer. After a drop, connect again ``reconnect`` seconds later, doubling the
    wait after each failed attempt (up to 1 s); None: never. Closed with 4000 (replaced by a newer
    socket): stop, as a second EPOS now holds the scope."""
    headers = {"Authorization": f"Basic {SANDBOX_KEY}", "software-house-id": SOFTWARE_HOUSE}
    tasks: set[asyncio.Task[None]] = set()
    failures = 0
    while True:
        code: int | None = None
        try:
            async with ws_connect(url, additional_headers=headers) as sock:
                connected.set()
                failures = 0
                try:
                    async for message in sock:
                        task = asyncio.create_task(_answer(sock, book, json.loads(message)))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                except ConnectionClosed:
                    pass
                code = sock.close_code
        except (OSError, InvalidHandshake):
            failures += 1
        if reconnect is None or code == 4000:
            return
        await asyncio.sleep(min(1.0, reconnect * 2 ** failures))


# -- the rig -------------------------------------------------------------------------------------


@dataclass
class StrangerRig:
    platform: Platform
    client: AsyncClient
    transport: str
    book: OrderBook

    async def run(self, flow: str, **params: Any) -> FlowResult:
        flow_id = await self.client.run_flow(flow, params)
        await self.platform.tester.wait(scope_of(), flow_id)
        return await self.client.get_flow_result(flow_id)


@contextlib.asynccontextmanager
async def serve_stranger(book: OrderBook, transport: str, tmp_path: Path, *,
                         call_timeout: float = 5.0,
                         reconnect: float | None = 0.05) -> AsyncIterator[StrangerRig]:
    settings = PlatformSettings(
        db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}", call_timeout=call_timeout,
        ping_interval=None, flow_timeout=60.0,
        http_transport=httpx.ASGITransport(app=rest_app(book)))
    platform = Platform(settings)
    platform_app = build_platform_app(platform=platform)
    client = AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url="http://platform",
                         transport=httpx.ASGITransport(app=platform_app))
    caps = [(c, "v1") for c in book.capabilities()]
    served = epos = None
    try:
        if transport == "rest":
            await client.put_rest_integration("http://stranger.test/", caps, username=USER,
                                              password=PASSWORD)
        else:
            served = await start_server(platform_app, lifespan="off", ws_ping_interval=None)
            connected = asyncio.Event()
            epos = asyncio.create_task(ws_epos(book, f"ws://127.0.0.1:{served.port}/epos", connected,
                                               reconnect=reconnect))
            await asyncio.wait_for(connected.wait(), 10)
            for _ in range(500):
                if platform.gateway.connection(scope_of()) is not None:
                    break
                await asyncio.sleep(0.01)
            await client.put_ws_integration(caps)
        yield StrangerRig(platform, client, transport, book)
    finally:
        if epos is not None:
            epos.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await epos
        await platform.close()
        await client.aclose()
        if served is not None:
            served.server.should_exit = True
            await served.task
