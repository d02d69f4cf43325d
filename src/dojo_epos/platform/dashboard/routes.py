"""The dashboard's pages, mounted under ``/dashboard`` on the local platform.

Server-rendered (Jinja2, autoescaped), no build step and nothing fetched from the internet: one CSS
file and a few lines of script that refresh the live parts (a flow's steps, the sockets) by polling
JSON endpoints. Pages:

* ``/dashboard`` — accounts seen (labelled by key prefix and last four characters, the ones never
  registered marked), each with its health (:mod:`.health`), registrations, recent calls;
  and the live sockets;
* ``/dashboard/flows?scope=`` — the tester's flows, a form to run each, recent runs;
  ``/dashboard/flows/{id}?scope=`` follows one run step by step, ``.../junit.xml`` (:mod:`.runs`);
* ``/dashboard/calls?scope=`` — the call log, filtered by capability and outcome, searched by order
  id and trace id (:mod:`.callsearch`); a flow's expected refusals are marked expected;
* ``/dashboard/traffic?scope=`` — the last hour in pictures, live (:mod:`.traffic`, :mod:`.charts`);
* ``/dashboard/faults?scope=`` — the account's faults on demand, added and cleared
  (:mod:`.faults_pages`);
* ``/dashboard/terminal?scope=`` — the virtual card terminal (:mod:`.terminal_pages`).

A scope is named in the query string as ``environment:fingerprint:softwareHouse``: the API key
itself is never known to the dashboard, and no registration password is ever passed to a template.
POSTs are guarded by the same-origin check described in :mod:`.web`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from dojo_epos.contract.capabilities import CATALOGUE
from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.platform.accounts import KeyPolicy, Scope
from dojo_epos.platform.gateway import Gateway
from dojo_epos.platform.invoke import Invoker
from dojo_epos.platform.registry import Registry
from dojo_epos.platform.routing import Router
from dojo_epos.platform.store import CallRow, Registration, Store
from dojo_epos.platform.tester.service import FlowRequestError, TesterService

from .callsearch import mentions
from .faults_pages import FaultPages
from .health import health_of
from .runs import junit
from .terminal_pages import TerminalPages
from .traffic import TrafficPages
from .web import (
    BASE,
    HERE,
    FormError,
    add_label_source,
    no_store,
    parse_scope,
    quote_token,
    read_form,
    render,
    render_fragment,
)

__all__ = ["dashboard_routes"]

RECENT_CALLS = 15
#: Calls the overview's health summary looks back over (errors counted, the last one shown).
HEALTH_CALLS = 500
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
            "reply": row.reply, "duration_ms": row.duration_ms, "started_at": row.started_at,
            "expected": row.expected}


def _steps_view(result: FlowResult, calls: list[CallRow]) -> list[dict[str, Any]]:
    """Each step with the calls made while it ran (the request and reply shown on demand)."""
    now = datetime.now(UTC)
    steps = []
    for step in result.steps:
        end = step.finished_at or now
        during = [_call_view(c) for c in reversed(calls)
                  if step.started_at <= c.started_at <= end]
        took = (step.finished_at - step.started_at).total_seconds() * 1000 if step.finished_at else None
        steps.append({"name": step.name, "status": step.status.value,
                      "lines": step.additional_information, "calls": during,
                      "started_at": step.started_at, "finished_at": step.finished_at,
                      "duration_ms": took})
    return steps


class Dashboard:
    """The page handlers, bound to the platform's services."""

    def __init__(self, *, store: Store, invoker: Invoker, registry: Registry, gateway: Gateway,
                 tester: TesterService, keys: KeyPolicy | None = None,
                 router: Router | None = None) -> None:
        self.store = store
        self.invoker = invoker
        self.registry = registry
        self.gateway = gateway
        self.router = router
        self.tester = tester
        if keys is not None:
            add_label_source(keys.labels)

    async def _calls(self, scope: Scope, limit: int) -> list[CallRow]:
        """The scope's persisted calls, newest first, including the ones just made (the call log
        is written in the background, so it is flushed first)."""
        await self.invoker.flush_log()
        return await self.store.calls(scope, limit)

    async def _scopes(self) -> list[Scope]:
        await self.tester.settled()  # an account whose first run just started is listed
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
        unregistered = [s for s in scopes if not await self.store.registrations(s)]
        return render("accounts.html", status=status, page=page, scopes=scopes, scope=None,
                      unknown=request.query_params.get("scope"), unregistered=unregistered)

    # -- overview -----------------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        accounts: list[dict[str, Any]] = []
        for scope in await self._scopes():
            registrations = await self.store.registrations(scope)
            calls = await self._calls(scope, HEALTH_CALLS)
            connection = self.gateway.connection(scope)
            health = health_of(registrations, await self.tester.recent(scope, 20), calls,
                               connection.connected_at if connection else None)
            accounts.append({"scope": scope, "health": health,
                             "faults": len(self.invoker.faults.of(scope)),
                             "registrations": [_registration_view(r) for r in registrations],
                             "calls": [_call_view(c) for c in calls[:RECENT_CALLS]]})
        accounts.sort(key=lambda a: not a["health"].registered)  # registered accounts first
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
            f"{BASE}/flows/{flow_id}?scope={quote_token(scope)}", status_code=303)

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
        html = render_fragment("_flow_steps.html", run=result, scope=scope,
                               steps=_steps_view(result, calls), done=done)
        return no_store(JSONResponse({"status": result.status.value, "done": done, "html": html}))

    # -- calls --------------------------------------------------------------------------------

    async def calls(self, request: Request) -> Response:
        scope = await self._scope_or_picker(request, "/calls")
        if isinstance(scope, Response):
            return scope
        query = request.query_params
        capability, outcome = query.get("capability", ""), query.get("outcome", "")
        order_id, trace_id = query.get("order", "").strip(), query.get("trace", "").strip()
        rows = await self._calls(scope, CALL_LOG_LIMIT)
        outcomes = sorted({r.outcome for r in rows} | {"ok", "expected"})
        registered = await self.registry.capability_names(scope)
        capabilities = sorted(registered | {r.capability for r in rows}) or sorted(
            c.name for c in CATALOGUE)
        shown = [_call_view(r) for r in rows
                 if (not capability or r.capability == capability)
                 and (not outcome or _outcome_matches(r, outcome))
                 and (not order_id or mentions(r, "orderId", order_id))
                 and (not trace_id or mentions(r, "traceId", trace_id))]
        return render("calls.html", scope=scope, calls=shown, total=len(rows),
                      capability=capability, outcome=outcome, outcomes=outcomes,
                      capabilities=capabilities, registered=registered, order=order_id,
                      trace=trace_id, faults_set=len(self.invoker.faults.of(scope)))


def _outcome_matches(row: CallRow, wanted: str) -> bool:
    """``expected`` picks the refusals a flow expected; a failure name picks the unexpected ones."""
    if wanted == "expected":
        return row.expected and row.outcome != "ok"
    return row.outcome == wanted and not (row.expected and wanted != "ok")


async def _to_dashboard(request: Request) -> Response:
    return RedirectResponse(BASE, status_code=307)


def dashboard_routes(*, store: Store, invoker: Invoker, registry: Registry, gateway: Gateway,
                     tester: TesterService, keys: KeyPolicy | None = None,
                     router: Router | None = None) -> list[BaseRoute]:
    """The dashboard's routes (and ``/`` redirecting to it), to add to the platform app."""
    d = Dashboard(store=store, invoker=invoker, registry=registry, gateway=gateway, tester=tester,
                  keys=keys, router=router)
    traffic = TrafficPages(d)
    terminal = TerminalPages(d)
    faults = FaultPages(d)
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
        Route(f"{BASE}/traffic", traffic.page, methods=["GET"]),
        Route(f"{BASE}/api/traffic", traffic.live, methods=["GET"]),
        Route(f"{BASE}/flows/{{flow_id}}/junit.xml", partial(junit, d), methods=["GET"]),
        Route(f"{BASE}/faults", faults.page, methods=["GET"]),
        Route(f"{BASE}/faults", faults.add, methods=["POST"]),
        Route(f"{BASE}/faults/clear", faults.clear, methods=["POST"]),
        Route(f"{BASE}/terminal", terminal.terminal, methods=["GET"]),
        Route(f"{BASE}/terminal/pay", terminal.pay, methods=["POST"]),
        Route(f"{BASE}/terminal/receipts/{{receipt_id}}", terminal.receipt, methods=["GET"]),
    ]
