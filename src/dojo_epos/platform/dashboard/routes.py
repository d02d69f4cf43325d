"""The dashboard's pages, mounted under ``/dashboard`` on the local platform.

Server-rendered (Jinja2, autoescaped), no build step and nothing fetched from the internet: one CSS
file and a few lines of script that refresh the live parts (a flow's steps, the sockets) by polling
JSON endpoints. Pages:

* ``/dashboard`` — accounts seen, registrations per transport, live sockets, recent calls;
* ``/dashboard/flows?scope=`` — the tester's flows, a form to run each, recent runs;
  ``/dashboard/flows/{id}?scope=`` follows one run step by step;
* ``/dashboard/calls?scope=`` — the call log, filtered by capability and outcome;
* ``/dashboard/terminal?scope=`` — the virtual card terminal (:mod:`dojo_epos.platform.terminal`).

A scope is named in the query string as ``environment:fingerprint:softwareHouse``: the API key
itself is never known to the dashboard, and no registration password is ever passed to a template.
POSTs are guarded by the same-origin check described in :mod:`.web`.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

import dojo_epos.platform.terminal as t
from dojo_epos.contract.capabilities import CATALOGUE
from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.gateway import Gateway
from dojo_epos.platform.invoke import Invoker
from dojo_epos.platform.registry import Registry
from dojo_epos.platform.routing import Router
from dojo_epos.platform.store import CallRow, Registration, Store
from dojo_epos.platform.tester.service import FlowRequestError, TesterService

from .web import (
    BASE,
    HERE,
    FormError,
    no_store,
    parse_scope,
    read_form,
    render,
    render_fragment,
    scope_token,
)

__all__ = ["dashboard_routes"]

RECENT_CALLS = 15
CALL_LOG_LIMIT = 500
RECEIPTS_KEPT = 200


def _safe_url(url: str | None) -> str:
    """A registered URL without any ``user:password@`` part."""
    if not url:
        return ""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host.rpartition('@')[2]}{slash}{path}"


def _registration_view(registration: Registration) -> dict[str, Any]:
    """What a page may show of a registration: never the password."""
    return {
        "transport": registration.transport,
        "url": _safe_url(registration.url),
        "username": registration.username,
        "reseller_id": registration.reseller_id,
        "updated_at": registration.updated_at,
        "capabilities": [(c.name, c.version) for c in registration.capabilities],
    }


def _call_view(row: CallRow) -> dict[str, Any]:
    return {"id": row.id, "capability": row.capability, "transport": row.transport,
            "outcome": row.outcome, "detail": row.detail, "request": row.request,
            "reply": row.reply, "duration_ms": row.duration_ms, "started_at": row.started_at}


def _steps_view(result: FlowResult, calls: list[CallRow]) -> list[dict[str, Any]]:
    """Each step with the calls made while it ran (the request and reply shown on demand)."""
    now = datetime.now(UTC)
    steps = []
    for step in result.steps:
        end = step.finished_at or now
        during = [_call_view(c) for c in reversed(calls)
                  if step.started_at <= c.started_at <= end]
        steps.append({"name": step.name, "status": step.status.value,
                      "lines": step.additional_information, "calls": during,
                      "started_at": step.started_at, "finished_at": step.finished_at})
    return steps


class Dashboard:
    """The page handlers, bound to the platform's services."""

    def __init__(self, *, store: Store, invoker: Invoker, registry: Registry, gateway: Gateway,
                 tester: TesterService, router: Router | None = None) -> None:
        self.store = store
        self.invoker = invoker
        self.registry = registry
        self.gateway = gateway
        self.router = router
        self.tester = tester
        self.receipts: OrderedDict[str, tuple[Scope, t.Receipt]] = OrderedDict()

    async def _calls(self, scope: Scope, limit: int) -> list[CallRow]:
        """The scope's persisted calls, newest first, including the ones just made (the call log
        is written in the background, so it is flushed first)."""
        await self.invoker.flush_log()
        return await self.store.calls(scope, limit)

    async def _scopes(self) -> list[Scope]:
        found = set(await self.store.scopes())
        found.update(c.scope for c in self.gateway.connections())  # other workers' are stored
        return sorted(found, key=str)

    async def _scope_or_picker(self, request: Request, page: str) -> Scope | Response:
        scope = parse_scope(request.query_params.get("scope"))
        scopes = await self._scopes()
        if scope is not None and scope in scopes:
            return scope
        if scope is None and len(scopes) == 1:
            return scopes[0]
        status = 404 if request.query_params.get("scope") else 200
        return render("accounts.html", status=status, page=page, scopes=scopes, scope=None,
                      unknown=request.query_params.get("scope"))

    # -- overview -----------------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        accounts = []
        for scope in await self._scopes():
            registrations = await self.store.registrations(scope)
            calls = await self._calls(scope, RECENT_CALLS)
            accounts.append({"scope": scope,
                             "registrations": [_registration_view(r) for r in registrations],
                             "calls": [_call_view(c) for c in calls]})
        return render("overview.html", accounts=accounts, scope=None,
                      sockets=await self._sockets())

    async def _sockets(self) -> dict[str, Any]:
        """Every worker's live sockets (this worker's alone without a router)."""
        return await self.router.stats() if self.router is not None else self.gateway.stats()

    async def sockets_json(self, request: Request) -> Response:
        sockets = await self._sockets()
        html = render_fragment("_sockets.html", sockets=sockets)
        return no_store(JSONResponse({"done": False, "html": html, "sockets": sockets}))

    # -- flows --------------------------------------------------------------------------------

    async def flows(self, request: Request) -> Response:
        scope = await self._scope_or_picker(request, "/flows")
        if isinstance(scope, Response):
            return scope
        return await self._flows_page(scope)

    async def _flows_page(self, scope: Scope, error: str | None = None,
                          chosen: str | None = None, values: dict[str, str] | None = None,
                          status: int = 200) -> Response:
        runs = await self.tester.recent(scope, 20)
        return render("flows.html", status=status, scope=scope, error=error, chosen=chosen,
                      values=values or {}, flows=self.tester.descriptions(), runs=runs)

    async def run_flow(self, request: Request) -> Response:
        scope = await self._scope_or_picker(request, "/flows")
        if isinstance(scope, Response):
            return scope
        try:
            form = await read_form(request)
        except FormError as exc:
            return render("message.html", status=exc.status, scope=scope, title="Refused",
                          message=exc.message)
        flow = form.pop("flow", "")
        params = {k.removeprefix("p."): v.strip() for k, v in form.items()
                  if k.startswith("p.") and v.strip()}
        try:
            flow_id = await self.tester.start(scope, flow, params)
        except FlowRequestError as exc:
            return await self._flows_page(scope, str(exc), flow, params, status=400)
        return RedirectResponse(
            f"{BASE}/flows/{flow_id}?scope={_q(scope)}", status_code=303)

    async def _flow_context(self, request: Request) -> tuple[Scope, FlowResult] | Response:
        scope = await self._scope_or_picker(request, "/flows")
        if isinstance(scope, Response):
            return scope
        result = await self.tester.result(scope, request.path_params["flow_id"])
        if result is None:
            return render("message.html", status=404, scope=scope, title="No such run",
                          message="This account has no flow run with that id.")
        return scope, result

    async def flow_run(self, request: Request) -> Response:
        found = await self._flow_context(request)
        if isinstance(found, Response):
            return found
        scope, result = found
        calls = await self._calls(scope, CALL_LOG_LIMIT)
        return render("flow_run.html", scope=scope, run=result,
                      steps=_steps_view(result, calls),
                      done=result.status is not Status.IN_PROGRESS)

    async def flow_json(self, request: Request) -> Response:
        found = await self._flow_context(request)
        if isinstance(found, Response):
            return no_store(JSONResponse({"error": "not_found"}, status_code=404))
        scope, result = found
        calls = await self._calls(scope, CALL_LOG_LIMIT)
        done = result.status is not Status.IN_PROGRESS
        html = render_fragment("_flow_steps.html", run=result,
                               steps=_steps_view(result, calls), done=done)
        return no_store(JSONResponse({"status": result.status.value, "done": done, "html": html}))

    # -- calls --------------------------------------------------------------------------------

    async def calls(self, request: Request) -> Response:
        scope = await self._scope_or_picker(request, "/calls")
        if isinstance(scope, Response):
            return scope
        capability = request.query_params.get("capability", "")
        outcome = request.query_params.get("outcome", "")
        rows = await self._calls(scope, CALL_LOG_LIMIT)
        outcomes = sorted({r.outcome for r in rows} | {"ok"})
        capabilities = sorted({c.name for c in CATALOGUE} | {r.capability for r in rows})
        shown = [_call_view(r) for r in rows
                 if (not capability or r.capability == capability)
                 and (not outcome or r.outcome == outcome)]
        return render("calls.html", scope=scope, calls=shown, total=len(rows),
                      capability=capability, outcome=outcome, outcomes=outcomes,
                      capabilities=capabilities)

    # -- the virtual terminal -----------------------------------------------------------------

    async def terminal(self, request: Request) -> Response:
        scope = await self._scope_or_picker(request, "/terminal")
        if isinstance(scope, Response):
            return scope
        device = t.VirtualTerminal(self.invoker, self.registry, scope)
        query = request.query_params
        table, order_id = query.get("table", ""), query.get("order", "")
        context: dict[str, Any] = {"scope": scope, "table": table, "fmt": t.format_money}
        if order_id:
            order, bill, failed = await device.bill(order_id)
            labels = t.order_labels([order]) if order is not None else []
            return render("terminal_bill.html", **context, order=order, failed=failed,
                          failure=t.explain_failure("GetOrderBill", failed) if failed else "",
                          label=labels[0] if labels else order_id,
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
                      failure=t.explain_failure("SearchTables", failed) if failed else "")

    async def pay(self, request: Request) -> Response:
        scope = await self._scope_or_picker(request, "/terminal")
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
                f"{BASE}/terminal?scope={_q(scope)}&order={_q(order)}&error={_q(str(exc))}"
                f"&table={_q(form.get('table', ''))}", status_code=303)
        receipt = await t.VirtualTerminal(self.invoker, self.registry, scope).pay(pay)
        receipt_id = secrets.token_hex(8)
        self.receipts[receipt_id] = (scope, receipt)
        while len(self.receipts) > RECEIPTS_KEPT:
            self.receipts.popitem(last=False)
        return RedirectResponse(
            f"{BASE}/terminal/receipts/{receipt_id}?scope={_q(scope)}"
            f"&table={_q(form.get('table', ''))}", status_code=303)

    async def receipt(self, request: Request) -> Response:
        scope = await self._scope_or_picker(request, "/terminal")
        if isinstance(scope, Response):
            return scope
        found = self.receipts.get(request.path_params["receipt_id"])
        if found is None or found[0] != scope:
            return render("message.html", status=404, scope=scope, title="No such receipt",
                          message="This receipt is not (or no longer) kept.")
        return render("terminal_receipt.html", scope=scope, receipt=found[1],
                      table=request.query_params.get("table", ""), fmt=t.format_money)


def _q(value: Scope | str) -> str:
    return quote(scope_token(value) if isinstance(value, Scope) else value, safe="")


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


async def _to_dashboard(request: Request) -> Response:
    return RedirectResponse(BASE, status_code=307)


def dashboard_routes(*, store: Store, invoker: Invoker, registry: Registry, gateway: Gateway,
                     tester: TesterService, router: Router | None = None) -> list[BaseRoute]:
    """The dashboard's routes (and ``/`` redirecting to it), to add to the platform app."""
    d = Dashboard(store=store, invoker=invoker, registry=registry, gateway=gateway, tester=tester,
                  router=router)
    return [
        Route("/", _to_dashboard, methods=["GET"]),
        Mount(f"{BASE}/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        Route(BASE, d.overview, methods=["GET"]),
        Route(f"{BASE}/", _to_dashboard, methods=["GET"]),
        Route(f"{BASE}/api/sockets", d.sockets_json, methods=["GET"]),
        Route(f"{BASE}/flows", d.flows, methods=["GET"]),
        Route(f"{BASE}/flows", d.run_flow, methods=["POST"]),
        Route(f"{BASE}/flows/{{flow_id}}", d.flow_run, methods=["GET"]),
        Route(f"{BASE}/api/flows/{{flow_id}}", d.flow_json, methods=["GET"]),
        Route(f"{BASE}/calls", d.calls, methods=["GET"]),
        Route(f"{BASE}/terminal", d.terminal, methods=["GET"]),
        Route(f"{BASE}/terminal/pay", d.pay, methods=["POST"]),
        Route(f"{BASE}/terminal/receipts/{{receipt_id}}", d.receipt, methods=["GET"]),
    ]
