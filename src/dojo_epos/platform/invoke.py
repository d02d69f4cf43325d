"""Invocation: how the platform calls a capability on an EPOS, over REST or the WebSocket.

:meth:`Invoker.invoke` finds the registration that offers the capability and makes the call:

* over **REST** with httpx: basic auth from the registration, and the request
  :func:`~dojo_epos.contract.restmap.rest_request_for` makes of ``params`` (the catalogue path with
  its path parameters filled, Dojo's request headers, the remaining fields as the body) under the
  registered base URL (spec defect #40). A path parameter must be a non-empty string, as the REST
  spec's parameter schemas say (``type: string``): an integer ``orderId`` is refused before
  anything is sent, as the WebSocket's params model refuses it;
* over the **WebSocket** through the gateway: ``params`` in the WS shape, ``headers`` always present.

When both transports registered a capability, the WebSocket is used while its socket is connected and
REST otherwise: a connected socket is the EPOS's live channel, and REST still works when it drops.
The socket may be held by another worker: the :class:`~.routing.Router` reaches it over the bus, and
when no worker holds it the call falls back to REST.

The answer is an :class:`~.outcome.InvocationResult`: the validated result model, or a typed
failure (:class:`~.outcome.Failure`). A reply that is an array of pages where the catalogue row
says so (``Capability.array_of_pages``: SearchTables, spec defect #5) is joined into one page.
Every call is recorded, with its request, reply, duration and outcome, in the
:class:`~.calllog.CallLog`, for the tester and the dashboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from dojo_epos.contract.capabilities import Capability, UnknownCapability, lookup
from dojo_epos.contract.errors import EposError, ErrorType, describe_validation_error
from dojo_epos.contract.jsonrpc import DEFAULT_MAX_FRAME_BYTES, JSONRPC_VERSION, Result, loads_strict
from dojo_epos.contract.models import RequestHeaders
from dojo_epos.contract.restmap import rest_request_for
from dojo_epos.contract.wire import Transport, dump
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.calllog import CallLog
from dojo_epos.platform.egress import guarded_transport
from dojo_epos.platform.fault_book import FaultBook
from dojo_epos.platform.faults import Fault, FaultKind
from dojo_epos.platform.gateway import CallTimedOut, ConnectionLost, NotConnected
from dojo_epos.platform.outcome import Failure, InvocationResult
from dojo_epos.platform.recording import Recorder
from dojo_epos.platform.registry import REST, WS, Registry, rest_base
from dojo_epos.platform.routing import Router
from dojo_epos.platform.store import Registration, Store

__all__ = ["DEFAULT_MAX_REPLY_BYTES", "CallObserver", "Invoker"]

log = logging.getLogger("dojo_epos.platform.invoke")


#: Largest REST reply read from an EPOS: the WebSocket frame limit, so both transports agree.
DEFAULT_MAX_REPLY_BYTES = DEFAULT_MAX_FRAME_BYTES


class _TooLarge(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


#: Told of every successful call with the params sent (e.g. the payments service, which creates
#: the payment intent of each payment an EPOS records).
CallObserver = Callable[[Scope, InvocationResult, dict[str, Any]], Awaitable[None]]


class _Stop(Exception):
    """Internal: ends a call early with a failure."""

    def __init__(self, failure: Failure, detail: str, *, error: EposError | None = None,
                 field: str | None = None) -> None:
        super().__init__(detail)
        self.failure, self.detail, self.error, self.field = failure, detail, error, field


def _join_pages(data: Any) -> Any:
    """spec defect #5: an answer typed as an array of pages becomes one page."""
    if isinstance(data, list):
        rows: list[Any] = []
        for page in data:
            if isinstance(page, dict) and isinstance(page.get("data"), list):
                rows.extend(page["data"])
        return {"data": rows}
    return data


def _validate_result(capability: Capability, data: Any) -> BaseModel:
    if capability.array_of_pages:
        data = _join_pages(data)
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
                 ring_size: int = 500, max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES) -> None:
        self.registry = registry
        self.max_reply_bytes = max_reply_bytes
        self.router = router
        self.call_timeout = call_timeout
        self.calls = CallLog(store, ring_size=ring_size)
        self._http_transport = http_transport
        self._http: httpx.AsyncClient | None = None
        self.observers: list[CallObserver] = []
        #: Scopes being recorded to a file (``dojo-epos record``; see :mod:`.recording`).
        self.recorder = Recorder()
        #: Faults on demand, per scope (off by default; see :mod:`.faults`).
        self.faults = FaultBook()

    def set_http_transport(self, transport: httpx.AsyncBaseTransport | None) -> None:
        """Use another transport for REST calls from now on (the old client is dropped)."""
        self._http_transport = transport
        self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # Real calls connect through the address guard (:mod:`.egress`), checked at call time.
            self._http = httpx.AsyncClient(transport=self._http_transport or guarded_transport(),
                                           timeout=self.call_timeout, follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        await self.calls.aclose()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def recent(self, scope: Scope | None = None, limit: int = 100) -> list[InvocationResult]:
        """The newest calls first, of one scope or of all (see :meth:`CallLog.recent`)."""
        return self.calls.recent(scope, limit)

    async def flush_log(self) -> None:
        """Wait until every call made so far is in the database."""
        await self.calls.flush()

    @property
    def log_dropped(self) -> int:
        """Call-log entries not persisted because the writer fell behind (overload)."""
        return self.calls.dropped

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
        expect_error: ErrorType | tuple[ErrorType, ...] | None = None,
        faultable: bool = True,
    ) -> InvocationResult:
        """Call ``capability_name`` (any registered name or alias) for ``scope``.

        ``params`` are the WS-shaped params (a model, or a dict with wire names); ``headers``
        override any ``headers`` inside them. ``transport`` forces ``"rest"`` or ``"ws"``.
        With ``validate=False`` a dict is sent as given, so a tester can send bad input on purpose.
        ``expect_error`` names the EPOSError the caller is checking for: when the EPOS answers with
        it, the call log marks the call *expected* (a flow's negative check is not a fault).
        ``faultable=False`` takes no fault from the book: the platform's own background calls
        (HandleEvent for each intent change) must not take a fault a flow set for its own call.
        """
        outcome = InvocationResult(capability=capability_name, ok=False)
        started = time.perf_counter()
        wire: dict[str, Any] = {}
        faults: list[Fault] = []
        try:
            try:
                capability = lookup(capability_name)
            except UnknownCapability:
                raise _Stop(Failure.NOT_REGISTERED,
                            f"{capability_name!r} is not a capability of the contract") from None
            chosen, registration, fallback = await self._choose(scope, capability, transport)
            outcome.transport = chosen
            wire = self._params(capability, params, headers, chosen, validate)
            if faultable and self.faults.has(scope):  # none set: no await, no query (hot path)
                faults = await self.faults.take_call(scope, capability.name, chosen)
            if chosen == WS:
                try:
                    await self._call_ws(scope, capability, wire, timeout, outcome, faults)
                except _Stop as stop:
                    if stop.failure is not Failure.NOT_CONNECTED or fallback is None:
                        raise
                    # No worker holds the socket after all: REST, as when it is known to be down.
                    outcome.transport, outcome.request = REST, None
                    wire = self._params(capability, params, headers, REST, validate)
                    await self._call_rest(capability, fallback, wire, validate, timeout, outcome)
            else:
                await self._call_rest(capability, registration, wire, validate, timeout, outcome,
                                      faults)
            outcome.ok = True
        except _Stop as stop:
            outcome.failure, outcome.detail = stop.failure, stop.detail
            outcome.error, outcome.field = stop.error, stop.field
            expected = expect_error if isinstance(expect_error, tuple) else (expect_error,)
            outcome.expected = stop.error is not None and stop.error.error_type in expected
        outcome.duration_ms = (time.perf_counter() - started) * 1000
        if faults:  # every injected fault shows in the call log
            injected = "; ".join(f.describe() for f in faults)
            outcome.detail = f"{injected} | {outcome.detail}" if outcome.detail else injected
        await self._record(scope, outcome)
        self.recorder.record(scope, outcome, wire)
        if outcome.ok:
            for observer in self.observers:
                try:
                    await observer(scope, outcome, wire)
                except Exception:  # an observer's failure never turns a call into a failure
                    log.exception("%s: observer of %s failed", scope, outcome.capability)
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
                       timeout: float | None, outcome: InvocationResult,
                       faults: Sequence[Fault] = ()) -> None:
        envelope: dict[str, Any] = {"jsonrpc": JSONRPC_VERSION, "method": capability.rpc_method,
                                    "params": wire}
        outcome.request = envelope
        try:
            reply = await self.router.call(scope, capability.rpc_method, wire, timeout, faults)
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
        outcome.reply_text = reply.frame
        if isinstance(reply, Result):
            outcome.reply = {"result": reply.result}
            outcome.result = _validate_result(capability, reply.result)
        else:
            outcome.reply = {"error": reply.error.to_wire()}
            raise _Stop(Failure.EPOS_ERROR, str(reply.error), error=reply.error)

    async def _call_rest(self, capability: Capability, registration: Registration,
                         wire: dict[str, Any], validate: bool, timeout: float | None,
                         outcome: InvocationResult, faults: Sequence[Fault] = ()) -> None:
        try:
            request = rest_request_for(capability, wire)
        except EposError as exc:
            raise _Stop(Failure.INVALID_PARAMS,
                        f"params for {capability.name}: {exc.debug_message}") from None
        method, request_headers = request.method, request.headers
        body: Any = request.body
        if body is not None and validate and capability.rest_body is not None:
            try:
                body = dump(capability.rest_body.model_validate(body), "rest")
            except ValidationError as exc:
                raise _Stop(Failure.INVALID_PARAMS,
                            f"body for {capability.name}: {describe_validation_error(exc)}"
                            ) from None
        base, _cut = rest_base(registration.url or "")
        url = base + request.path
        outcome.request = {"method": method, "url": url, "headers": request_headers}
        if body is not None:
            outcome.request["body"] = body
        limit = self.call_timeout if timeout is None else timeout
        for fault in faults:
            if fault.kind is FaultKind.REST_DELAY:
                await asyncio.sleep(fault.seconds())
            elif fault.kind is FaultKind.REST_RESET:
                raise _Stop(Failure.TRANSPORT_ERROR,
                            f"{method} {url}: ConnectError: connection reset by peer")
            elif fault.kind is FaultKind.REST_RETRY_AFTER_TIMEOUT:
                # Dojo gave up waiting on this one and sends it again; the first answer is lost.
                with contextlib.suppress(httpx.HTTPError, _TooLarge, TimeoutError):
                    await asyncio.wait_for(self._send(
                        method, url, body, request_headers,
                        httpx.BasicAuth(registration.username or "", registration.password or ""),
                        limit), limit)
        try:
            # httpx's timeouts are per phase (connect, each read...), and an in-process transport
            # ignores them; the whole call is bounded here so a slow-dripping EPOS cannot hold a
            # caller past the call time-out.
            response, content = await asyncio.wait_for(self._send(
                method, url, body, request_headers,
                httpx.BasicAuth(registration.username or "", registration.password or ""),
                limit), limit)
        except _TooLarge as exc:
            outcome.reply = {"status": exc.status, "body": None}
            raise _Stop(Failure.REPLY_TOO_LARGE,
                        f"{method} {url}: the reply is larger than {self.max_reply_bytes} bytes "
                        "(max_reply_bytes); not read") from None
        except (httpx.TimeoutException, TimeoutError):
            raise _Stop(Failure.TIMED_OUT, f"{method} {url}: no answer in time") from None
        except httpx.HTTPError as exc:
            raise _Stop(Failure.TRANSPORT_ERROR,
                        f"{method} {url}: {type(exc).__name__}: {exc}") from None
        data, is_json, text = _body_of(content)
        outcome.reply = {"status": response.status_code, "body": data}
        if text is not None:
            outcome.reply_text = f'{{"status":{response.status_code},"body":{text}}}'
        if response.is_success:
            if not is_json:
                raise _Stop(Failure.SCHEMA_VIOLATION, "the reply body is not JSON", field="body")
            outcome.result = _validate_result(capability, data)
        else:
            error = EposError.from_wire(data, status=response.status_code)
            raise _Stop(Failure.EPOS_ERROR, f"HTTP {response.status_code}: {error}", error=error)

    async def _send(self, method: str, url: str, body: Any, headers: dict[str, str],
                    auth: httpx.Auth, timeout: float) -> tuple[httpx.Response, bytes]:
        """Send the request; read at most ``max_reply_bytes`` of the reply (else _TooLarge)."""
        async with self._client().stream(method, url, json=body, headers=headers, auth=auth,
                                         timeout=timeout) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_reply_bytes:
                raise _TooLarge(response.status_code)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_reply_bytes:
                    raise _TooLarge(response.status_code)
                chunks.append(chunk)
        return response, b"".join(chunks)

    async def _record(self, scope: Scope, outcome: InvocationResult) -> None:
        if outcome.ok:
            # DEBUG, not INFO: every call is in the call log (the dashboard, ``dojo-epos calls``),
            # and a line per call cost `platform serve` 20-35 us of its loop per call at INFO.
            log.debug("%s: %s over %s ok in %.1f ms", scope, outcome.capability,
                      outcome.transport, outcome.duration_ms)
        else:
            log.info("%s: %s over %s failed: %s (%s)", scope, outcome.capability,
                     outcome.transport, outcome.failure, outcome.detail)
        self.calls.record(scope, outcome)


def _body_of(content: bytes) -> tuple[Any, bool, str | None]:
    """The body as JSON (and True, and its text), ``{}`` for an empty body (DeletePartyById has no
    schema; no text), or a text excerpt (and False; no text)."""
    if not content.strip():
        return {}, True, None
    try:
        text = content.decode("utf-8")
        return loads_strict(text), True, text
    except (ValueError, RecursionError):
        return content[:2000].decode("utf-8", "replace"), False, None
