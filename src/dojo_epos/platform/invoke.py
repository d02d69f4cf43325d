"""Invocation: how the platform calls a capability on an EPOS, over REST or the WebSocket.

:meth:`Invoker.invoke` finds the registration that offers the capability and makes the call:

* over **REST** with httpx: basic auth from the registration, Dojo's request headers (``waiter-id``,
  ``dojo-requesting-product``, ``device-id``, ``device-type``), the URL made of the registered base
  (spec defect #40) and the catalogue path with its path parameters filled from ``params``, and the
  REST body made of the remaining fields;
* over the **WebSocket** through the gateway: ``params`` in the WS shape, ``headers`` always present.

When both transports registered a capability, the WebSocket is used while its socket is connected and
REST otherwise: a connected socket is the EPOS's live channel, and REST still works when it drops.
The socket may be held by another worker: the :class:`~.routing.Router` reaches it over the bus, and
when no worker holds it the call falls back to REST.

The answer is an :class:`InvocationResult`: the validated result model, or a typed failure
(:class:`Failure`). A SearchTables reply that is an array (what the REST spec says: spec defect #5)
is accepted and flattened into one page. Every call is recorded, with its request, reply, duration
and outcome, in a bounded in-memory ring and in the database, for the tester and the dashboard;
neither ever holds the registration password or the API key.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from dojo_epos.contract.capabilities import Capability, UnknownCapability, lookup
from dojo_epos.contract.errors import EposError, describe_validation_error
from dojo_epos.contract.jsonrpc import JSONRPC_VERSION, Result
from dojo_epos.contract.models import RequestHeaders
from dojo_epos.contract.wire import Transport, dump
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.gateway import CallTimedOut, ConnectionLost, NotConnected
from dojo_epos.platform.registry import REST, WS, Registry, rest_base
from dojo_epos.platform.routing import Router
from dojo_epos.platform.store import Registration, Store, utc_now

__all__ = ["Failure", "InvocationResult", "Invoker"]

log = logging.getLogger("dojo_epos.platform.invoke")

#: Call-log entries waiting to be written before new ones are dropped (and counted).
LOG_QUEUE_SIZE = 10_000


class Failure(StrEnum):
    """Why an invocation did not produce a valid result."""

    NOT_REGISTERED = "NotRegistered"
    """No registration of the scope offers the capability (or not on the transport asked for)."""
    NOT_CONNECTED = "NotConnected"
    """Registered over the WebSocket only, and no socket is connected."""
    TIMED_OUT = "TimedOut"
    """No answer within the call time-out."""
    TRANSPORT_ERROR = "TransportError"
    """The HTTP request or the socket failed (refused, reset, closed mid-call)."""
    EPOS_ERROR = "EposErrorReply"
    """The EPOS answered with an EPOSError (in :attr:`InvocationResult.error`)."""
    SCHEMA_VIOLATION = "SchemaViolation"
    """The EPOS answered, but the answer does not match the result schema (see ``field``)."""
    INVALID_PARAMS = "InvalidParams"
    """The call could not be built from the params given (nothing was sent)."""


@dataclass
class InvocationResult:
    """The outcome of one call: ``ok`` with ``result``, or a ``failure`` with its detail."""

    capability: str
    ok: bool
    transport: str | None = None
    result: BaseModel | None = None
    failure: Failure | None = None
    error: EposError | None = None
    detail: str | None = None
    field: str | None = None
    duration_ms: float = 0.0
    request: Any = None
    reply: Any = None
    started_at: datetime = dataclasses.field(default_factory=utc_now)

    @property
    def outcome(self) -> str:
        return "ok" if self.ok else str(self.failure)

    def result_wire(self, transport: Transport = "rest") -> Any:
        """The result as JSON-ready data, in ``transport``'s casing (None on failure)."""
        return None if self.result is None else dump(self.result, transport)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready record of the call, as kept in the call log."""
        return {
            "capability": self.capability, "transport": self.transport, "outcome": self.outcome,
            "detail": self.detail, "field": self.field, "durationMs": round(self.duration_ms, 3),
            "startedAt": self.started_at.isoformat(), "request": self.request,
            "reply": self.reply,
        }


class _Stop(Exception):
    """Internal: ends a call early with a failure."""

    def __init__(self, failure: Failure, detail: str, *, error: EposError | None = None,
                 field: str | None = None) -> None:
        super().__init__(detail)
        self.failure, self.detail, self.error, self.field = failure, detail, error, field


def _flatten_tables(data: Any) -> Any:
    """spec defect #5: a SearchTables answer typed as an array of pages becomes one page."""
    if isinstance(data, list):
        rows: list[Any] = []
        for page in data:
            if isinstance(page, dict) and isinstance(page.get("data"), list):
                rows.extend(page["data"])
        return {"data": rows}
    return data


def _validate_result(capability: Capability, data: Any) -> BaseModel:
    if capability.name == "SearchTables":
        data = _flatten_tables(data)
    try:
        return capability.result.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "result"
        raise _Stop(Failure.SCHEMA_VIOLATION,
                    f"the reply does not match {capability.result.__name__}: "
                    f"{describe_validation_error(exc)}", field=where) from None


class Invoker:
    """Calls capabilities on EPOSes; one per platform.

    ``http_transport`` is httpx's transport seam: tests pass ``httpx.ASGITransport(app)`` to reach
    an in-process EPOS. ``ring_size`` bounds the in-memory call log.
    """

    def __init__(self, registry: Registry, router: Router, store: Store, *,
                 call_timeout: float = 10.0, http_transport: httpx.AsyncBaseTransport | None = None,
                 ring_size: int = 500) -> None:
        self.registry = registry
        self.router = router
        self.store = store
        self.call_timeout = call_timeout
        self._http_transport = http_transport
        self._http: httpx.AsyncClient | None = None
        self._ring: deque[tuple[Scope, InvocationResult]] = deque(maxlen=ring_size)
        self._log_queue: asyncio.Queue[tuple[Scope, dict[str, Any]]] | None = None
        self._log_writer: asyncio.Task[None] | None = None
        #: Call-log entries not persisted because the writer fell behind (overload).
        self.log_dropped = 0

    def set_http_transport(self, transport: httpx.AsyncBaseTransport | None) -> None:
        """Use another transport for REST calls from now on (the old client is dropped)."""
        self._http_transport = transport
        self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(transport=self._http_transport,
                                           timeout=self.call_timeout, follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        if self._log_writer is not None:
            assert self._log_queue is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._log_queue.join(), 5)
            self._log_writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._log_writer
            self._log_writer = self._log_queue = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def recent(self, scope: Scope | None = None, limit: int = 100) -> list[InvocationResult]:
        """The newest calls first, of one scope or of all."""
        found = [r for s, r in reversed(self._ring) if scope is None or s == scope]
        return found[:limit]

    async def invoke(
        self,
        scope: Scope,
        capability_name: str,
        params: Mapping[str, Any] | BaseModel | None = None,
        headers: RequestHeaders | None = None,
        *,
        transport: str | None = None,
        validate: bool = True,
        timeout: float | None = None,
    ) -> InvocationResult:
        """Call ``capability_name`` (any registered name or alias) for ``scope``.

        ``params`` are the WS-shaped params (a model, or a dict with wire names); ``headers``
        override any ``headers`` inside them. ``transport`` forces ``"rest"`` or ``"ws"``.
        With ``validate=False`` a dict is sent as given, so a tester can send bad input on purpose.
        """
        outcome = InvocationResult(capability=capability_name, ok=False)
        started = time.perf_counter()
        try:
            try:
                capability = lookup(capability_name)
            except UnknownCapability:
                raise _Stop(Failure.NOT_REGISTERED,
                            f"{capability_name!r} is not a capability of the contract") from None
            chosen, registration, fallback = await self._choose(scope, capability, transport)
            outcome.transport = chosen
            wire = self._params(capability, params, headers, chosen, validate)
            if chosen == WS:
                try:
                    await self._call_ws(scope, capability, wire, timeout, outcome)
                except _Stop as stop:
                    if stop.failure is not Failure.NOT_CONNECTED or fallback is None:
                        raise
                    # No worker holds the socket after all: REST, as when it is known to be down.
                    outcome.transport, outcome.request = REST, None
                    wire = self._params(capability, params, headers, REST, validate)
                    await self._call_rest(capability, fallback, wire, validate, timeout, outcome)
            else:
                await self._call_rest(capability, registration, wire, validate, timeout, outcome)
            outcome.ok = True
        except _Stop as stop:
            outcome.failure, outcome.detail = stop.failure, stop.detail
            outcome.error, outcome.field = stop.error, stop.field
        outcome.duration_ms = (time.perf_counter() - started) * 1000
        await self._record(scope, outcome)
        return outcome

    async def _choose(self, scope: Scope, capability: Capability,
                      forced: str | None) -> tuple[str, Registration, Registration | None]:
        """The transport, its registration, and the REST one to fall back on when the socket
        turns out to be held by no worker (None when there is no such fallback)."""
        offering = await self.registry.offering(scope, capability)
        if forced is not None:
            if forced not in offering:
                raise _Stop(Failure.NOT_REGISTERED,
                            f"{capability.name} is not registered over {forced}")
            chosen = forced
        elif not offering:
            raise _Stop(Failure.NOT_REGISTERED, f"{capability.name} is not registered")
        else:
            # The WebSocket whenever registered: the router finds the socket on whichever worker
            # holds it, and when none does the call falls back to REST (if registered too).
            chosen = WS if WS in offering else REST
        fallback = offering.get(REST) if chosen == WS and forced is None else None
        return chosen, offering[chosen], fallback

    @staticmethod
    def _params(capability: Capability, params: Mapping[str, Any] | BaseModel | None,
                headers: RequestHeaders | None, transport: str, validate: bool) -> dict[str, Any]:
        casing: Transport = "ws" if transport == WS else "rest"
        if isinstance(params, BaseModel):
            wire: Any = dump(params, casing)
        else:
            wire = dict(params or {})
            if validate:
                try:
                    wire = dump(capability.params.model_validate(wire), casing)
                except ValidationError as exc:
                    raise _Stop(Failure.INVALID_PARAMS,
                                f"params for {capability.name}: {describe_validation_error(exc)}"
                                ) from None
        if not isinstance(wire, dict):
            raise _Stop(Failure.INVALID_PARAMS, "params must be a JSON object")
        if headers is not None:
            wire["headers"] = headers.to_wire("ws")
        wire.setdefault("headers", {})
        return wire

    async def _call_ws(self, scope: Scope, capability: Capability, wire: dict[str, Any],
                       timeout: float | None, outcome: InvocationResult) -> None:
        envelope: dict[str, Any] = {"jsonrpc": JSONRPC_VERSION, "method": capability.rpc_method,
                                    "params": wire}
        outcome.request = envelope
        try:
            reply = await self.router.call(scope, capability.rpc_method, wire, timeout)
        except NotConnected:
            raise _Stop(Failure.NOT_CONNECTED,
                        f"{capability.name} is registered over the WebSocket, "
                        "but no EPOS socket is connected") from None
        except CallTimedOut as exc:
            envelope["id"] = exc.request_id
            raise _Stop(Failure.TIMED_OUT, f"{capability.rpc_method}: {exc}") from None
        except ConnectionLost as exc:
            raise _Stop(Failure.TRANSPORT_ERROR, f"{capability.rpc_method}: {exc}") from None
        envelope["id"] = reply.id
        if isinstance(reply, Result):
            outcome.reply = {"result": reply.result}
            outcome.result = _validate_result(capability, reply.result)
        else:
            outcome.reply = {"error": reply.error.to_wire()}
            raise _Stop(Failure.EPOS_ERROR, str(reply.error), error=reply.error)

    async def _call_rest(self, capability: Capability, registration: Registration,
                         wire: dict[str, Any], validate: bool, timeout: float | None,
                         outcome: InvocationResult) -> None:
        method, template = capability.http
        path = template
        used = {"headers"}
        for name in capability.path_params:
            wire_name = capability.path_fields.get(name, name)
            value = wire.get(wire_name)
            if not isinstance(value, str | int) or value == "":
                raise _Stop(Failure.INVALID_PARAMS,
                            f"{capability.name} needs {wire_name!r} for its REST path")
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
            used.add(wire_name)
        body: Any = None
        if capability.rest_body is not None:
            body = {k: v for k, v in wire.items() if k not in used}
            if validate:
                try:
                    body = dump(capability.rest_body.model_validate(body), "rest")
                except ValidationError as exc:
                    raise _Stop(Failure.INVALID_PARAMS,
                                f"body for {capability.name}: {describe_validation_error(exc)}"
                                ) from None
        try:
            request_headers = RequestHeaders.model_validate(wire.get("headers") or {}).to_http()
        except ValidationError:
            request_headers = {}
        base, _cut = rest_base(registration.url or "")
        url = base + path
        outcome.request = {"method": method, "url": url, "headers": request_headers}
        if body is not None:
            outcome.request["body"] = body
        limit = self.call_timeout if timeout is None else timeout
        try:
            # httpx's timeouts are per phase (connect, each read...), and an in-process transport
            # ignores them; the whole call is bounded here so a slow-dripping EPOS cannot hold a
            # caller past the call time-out.
            response = await asyncio.wait_for(self._client().request(
                method, url, json=body, headers=request_headers,
                auth=httpx.BasicAuth(registration.username or "", registration.password or ""),
                timeout=limit), limit)
        except (httpx.TimeoutException, TimeoutError):
            raise _Stop(Failure.TIMED_OUT, f"{method} {url}: no answer in time") from None
        except httpx.HTTPError as exc:
            raise _Stop(Failure.TRANSPORT_ERROR,
                        f"{method} {url}: {type(exc).__name__}: {exc}") from None
        data, is_json = _body_of(response)
        outcome.reply = {"status": response.status_code, "body": data}
        if response.is_success:
            if not is_json:
                raise _Stop(Failure.SCHEMA_VIOLATION, "the reply body is not JSON", field="body")
            outcome.result = _validate_result(capability, data)
        else:
            error = EposError.from_wire(data, status=response.status_code)
            raise _Stop(Failure.EPOS_ERROR, f"HTTP {response.status_code}: {error}", error=error)

    async def _record(self, scope: Scope, outcome: InvocationResult) -> None:
        self._ring.append((scope, outcome))
        if outcome.ok:
            log.info("%s: %s over %s ok in %.1f ms", scope, outcome.capability,
                     outcome.transport, outcome.duration_ms)
        else:
            log.info("%s: %s over %s failed: %s (%s)", scope, outcome.capability,
                     outcome.transport, outcome.failure, outcome.detail)
        # Persisted by a background writer in batches: a database write per call on the caller's
        # path cost more than the call itself. The in-memory ring above is current at once.
        entry = {"capability": outcome.capability, "transport": outcome.transport,
                 "outcome": outcome.outcome, "detail": outcome.detail,
                 "request": outcome.request, "reply": outcome.reply,
                 "duration_ms": outcome.duration_ms, "started_at": outcome.started_at}
        if self._log_queue is None:
            self._log_queue = asyncio.Queue(maxsize=LOG_QUEUE_SIZE)
            self._log_writer = asyncio.create_task(self._write_log(self._log_queue),
                                                   name="call log writer")
        try:
            self._log_queue.put_nowait((scope, entry))
        except asyncio.QueueFull:  # overload: the log is a record, never worth slowing calls
            self.log_dropped += 1
            if self.log_dropped in (1, 10, 100) or self.log_dropped % 1000 == 0:
                log.warning("call log behind: %d entries not persisted", self.log_dropped)

    async def _write_log(self, queue: asyncio.Queue[tuple[Scope, dict[str, Any]]]) -> None:
        while True:
            batch = [await queue.get()]
            while not queue.empty() and len(batch) < 200:
                batch.append(queue.get_nowait())
            try:
                await self.store.add_calls(batch)
            except Exception:  # the calls happened; a log write failure must not undo them
                log.exception("could not persist %d call log entries", len(batch))
            finally:
                for _ in batch:
                    queue.task_done()

    async def flush_log(self) -> None:
        """Wait until every call made so far is in the database."""
        if self._log_queue is not None:
            await self._log_queue.join()


def _body_of(response: httpx.Response) -> tuple[Any, bool]:
    """The body as JSON (and True), ``{}`` for an empty body (DeletePartyById has no schema), or
    a text excerpt (and False)."""
    if not response.content.strip():
        return {}, True
    try:
        return response.json(), True
    except ValueError:
        return response.text[:2000], False
