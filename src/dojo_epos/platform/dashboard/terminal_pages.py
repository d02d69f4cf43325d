"""The virtual card terminal's pages: tables, a table's orders, the bill, paying, the receipt.

The device itself (the calls, the rules) is :mod:`dojo_epos.platform.terminal`; this module only
turns its answers into pages and the payment form into a :class:`~.terminal.PayRequest`.
Receipts are kept in memory (the newest :data:`RECEIPTS_KEPT`), per scope.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import dojo_epos.platform.terminal as t
from dojo_epos.platform.accounts import Scope

from .web import BASE, FormError, quote_token, read_form, render

if TYPE_CHECKING:
    from .routes import Dashboard

__all__ = ["RECEIPTS_KEPT", "TerminalPages"]

RECEIPTS_KEPT = 200


class TerminalPages:
    def __init__(self, dashboard: Dashboard) -> None:
        self.d = dashboard
        self.receipts: OrderedDict[str, tuple[Scope, t.Receipt]] = OrderedDict()

    async def terminal(self, request: Request) -> Response:
        scope = await self.d._scope_or_picker(request, "/terminal")
        if isinstance(scope, Response):
            return scope
        device = t.VirtualTerminal(self.d.invoker, self.d.registry, scope)
        query = request.query_params
        table, order_id = query.get("table", ""), query.get("order", "")
        context: dict[str, Any] = {"scope": scope, "table": table, "fmt": t.format_money}
        if order_id:
            order, bill, failed = await device.bill(order_id)
            labels = t.order_labels([order]) if order is not None else []
            return render("terminal_bill.html", **context, order=order, failed=failed,
                          failure=t.explain_failure("GetOrderBill", failed) if failed else "",
                          label=labels[0] if labels else order_id,
                          screen=t.bill_screen(order) if order else None,
                          header=t.bill_text(bill.header) if bill else [],
                          footer=t.bill_text(bill.footer) if bill else [],
                          due=t.due_of(order) if order else 0,
                          currency=t.currency_of(order) if order else "GBP",
                          nonce=secrets.token_hex(8), error=query.get("error", ""))
        if table or query.get("all"):
            orders, failed = await device.orders(table or None)
            return render("terminal_orders.html", **context, orders=orders, failed=failed,
                          failure=t.explain_failure("SearchOrders", failed) if failed else "")
        tables, failed = await device.tables()
        return render("terminal_tables.html", **context, tables=tables, failed=failed,
                      searchable="SearchTables" in await device.registered(),
                      failure=t.explain_failure("SearchTables", failed) if failed else "")

    async def pay(self, request: Request) -> Response:
        scope = await self.d._scope_or_picker(request, "/terminal")
        if isinstance(scope, Response):
            return scope
        try:
            form = await read_form(request)
            pay = _pay_request(form)
        except FormError as exc:
            return render("message.html", status=exc.status, scope=scope, title="Refused",
                          message=exc.message)
        except t.TerminalError as exc:
            order = form.get("order", "")
            return RedirectResponse(
                f"{BASE}/terminal?scope={quote_token(scope)}&order={quote_token(order)}&error={quote_token(str(exc))}"
                f"&table={quote_token(form.get('table', ''))}", status_code=303)
        receipt = await t.VirtualTerminal(self.d.invoker, self.d.registry, scope).pay(pay)
        receipt_id = secrets.token_hex(8)
        self.receipts[receipt_id] = (scope, receipt)
        while len(self.receipts) > RECEIPTS_KEPT:
            self.receipts.popitem(last=False)
        return RedirectResponse(
            f"{BASE}/terminal/receipts/{receipt_id}?scope={quote_token(scope)}"
            f"&table={quote_token(form.get('table', ''))}", status_code=303)

    async def receipt(self, request: Request) -> Response:
        scope = await self.d._scope_or_picker(request, "/terminal")
        if isinstance(scope, Response):
            return scope
        found = self.receipts.get(request.path_params["receipt_id"])
        if found is None or found[0] != scope:
            return render("message.html", status=404, scope=scope, title="No such receipt",
                          message="This receipt is not (or no longer) kept.")
        return render("terminal_receipt.html", scope=scope, receipt=found[1],
                      table=request.query_params.get("table", ""), fmt=t.format_money)


def _pay_request(form: dict[str, str]) -> t.PayRequest:
    """The payment screen's fields; raises TerminalError for anything a terminal would refuse."""
    order = form.get("order", "").strip()
    nonce = form.get("nonce", "").strip()
    if not order or not nonce or not nonce.isalnum() or len(nonce) > 64:
        raise t.TerminalError("The payment screen is incomplete — open the order again")
    try:
        seen_due = int(form.get("due", ""))
        parts = int(form.get("parts", "1") or "1")
    except ValueError:
        raise t.TerminalError("Enter a whole number of parts") from None
    if not 1 <= parts <= 50:
        raise t.TerminalError("Split into 1 to 50 parts")
    mode = form.get("mode", "full")
    if mode not in ("full", "equal", "custom"):
        raise t.TerminalError("Choose how to pay")
    custom = t.parse_amount(form.get("custom", "")) if mode == "custom" else 0
    tip = t.parse_amount(form.get("tip", ""))
    return t.PayRequest(order_id=order, seen_due=seen_due, mode=mode, parts=parts,
                        custom=custom, tip=tip, nonce=nonce,
                        waiter_id=form.get("waiter", "").strip() or None)
