"""Running flows for callers: start in the background, follow live, persist the result.

:class:`TesterService` is what the tester API and the dashboard use. A run's latest snapshot lives in
memory while it runs (cheap live updates) and is written to the platform store when it starts and
when it ends, so results survive a restart. A run found IN_PROGRESS in the store with no task behind
it was cut short by a restart; it is reported as FAILURE, saying so, rather than left running forever.

With several workers, a flow is started on the worker holding the scope's EPOS socket when another
worker holds it (``dojo-epos.flowstart.<token>``, served by the holder through the router): every
call of the run is then made on the local socket, with no bus hop, and the socket flows (Reconnect,
Keepalive, Replaced socket) see the socket they judge. The worker running a flow serves its live
snapshot on the bus
(``dojo-epos.flow.<token>``): another worker asked for it gets the snapshot from there, and only when
no worker answers (NATS's "no responders") is the run taken as cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from dojo_epos.contract.errors import ErrorType
from dojo_epos.contract.models import RequestHeaders
from dojo_epos.contract.tester_models import FlowDescription, FlowResult, Status, StepResult
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.bus import Bus, BusError, MemoryBus, NoResponders, Subscription, subject_token
from dojo_epos.platform.invoke import Invoker
from dojo_epos.platform.outcome import InvocationResult
from dojo_epos.platform.payments import Payments
from dojo_epos.platform.registry import Registry
from dojo_epos.platform.routing import held_subject
from dojo_epos.platform.store import Store

from .engine import FlowRun, run_flow
from .faults_port import FlowFaults
from .flows import FLOWS, flow_by_name, missing_params
from .payments_port import FlowPayments
from .single_call import single_call_run
from .sockets_port import FlowSockets
from .transport import TRANSPORT_PARAM, choose_transport, parse_transport

__all__ = ["FlowRequestError", "PlatformFlowInvoker", "TesterService"]

log = logging.getLogger("dojo_epos.tester")

FLOW_START = "flowstart"
#: Seconds to wait for the worker holding the socket to start a forwarded flow.
FORWARD_TIMEOUT = 5.0

class FlowRequestError(Exception):
    """A run request the tester refuses (unknown flow, missing or bad params)."""


class PlatformFlowInvoker:
    """The engine's :class:`~.engine.FlowInvoker`, backed by the platform: calls go through the real
    invocation path (registration lookup, REST or WebSocket, call log), so a flow sees what a Dojo
    product sees."""

    def __init__(self, invoker: Invoker, registry: Registry, scope: Scope, *,
                 transport: str | None = None) -> None:
        self.invoker = invoker
        self.registry = registry
        self.scope = scope
        self.asked = transport
        self._chosen: tuple[str, str] | None = None

    async def transport(self) -> tuple[str, str]:
        """The run's transport (see :mod:`.transport`), chosen on first use and kept."""
        if self._chosen is None:
            over = [r.transport for r in await self.registry.registrations(self.scope)]
            connected = await self.invoker.router.connected(self.scope)  # on any worker
            self._chosen = choose_transport(self.asked, over, connected)
        return self._chosen

    async def call(self, capability: str, params: Mapping[str, Any],
                   headers: Mapping[str, str] | None = None, *,
                   expect_error: ErrorType | tuple[ErrorType, ...] | None = None) -> InvocationResult:
        request_headers = RequestHeaders.model_validate(dict(headers)) if headers else None
        # validate=False: flows send malformed input on purpose (the negative checks).
        return await self.invoker.invoke(
            self.scope, capability, dict(params), request_headers, validate=False,
            transport=(await self.transport())[0], expect_error=expect_error)

    async def registered(self) -> set[str]:
        return await self.registry.capability_names(self.scope, (await self.transport())[0])


class TesterService:
    """Starts flows, keeps their live state, and answers for their results."""

    def __init__(self, invoker: Invoker, registry: Registry, store: Store, *,
                 flow_timeout: float = 300.0, payments: Payments | None = None,
                 bus: Bus | None = None) -> None:
        self.invoker = invoker
        self.payments = payments
        self.registry = registry
        self.store = store
        self.flow_timeout = flow_timeout
        self.bus = bus or MemoryBus()
        self._served: dict[tuple[Scope, str], Subscription] = {}
        self._live: dict[tuple[Scope, str], FlowResult] = {}
        self._tasks: dict[tuple[Scope, str], asyncio.Task[FlowResult]] = {}
        #: Writes of runs as they start, still in flight (see :meth:`start`).
        self._writes: set[asyncio.Task[None]] = set()
        invoker.router.serve_held(FLOW_START, self._serve_start)

    @staticmethod
    def descriptions() -> list[FlowDescription]:
        return [FlowDescription(name=f.name, params=[*f.params, TRANSPORT_PARAM]) for f in FLOWS]

    def prepare(self, scope: Scope, flow: str, params: Mapping[str, Any] | None) -> FlowRun:
        """Check a run request and build its run; raises :class:`FlowRequestError`."""
        definition = flow_by_name(flow)
        if definition is None:
            names = ", ".join(f.name for f in FLOWS)
            raise FlowRequestError(f"unknown flow {flow!r}; the flows are: {names}")
        params = dict(params or {})
        try:
            transport = parse_transport(params.pop(TRANSPORT_PARAM.name, None))
        except ValueError as exc:
            raise FlowRequestError(str(exc)) from None
        known = {p.name for p in definition.params}
        unknown = sorted(set(params) - known)
        if unknown:
            raise FlowRequestError(f"flow {flow!r} takes no parameter {', '.join(unknown)}")
        missing = missing_params(definition, params)
        if missing:
            raise FlowRequestError(f"flow {flow!r} needs the parameter {', '.join(missing)}")
        for name, value in params.items():
            if not isinstance(value, str | int | float | bool) or value is None:
                raise FlowRequestError(f"parameter {name} must be a string, number or boolean")
        if definition.check_params is not None:
            problem = definition.check_params(params)
            if problem:
                raise FlowRequestError(problem)
        key_holder: dict[str, tuple[Scope, str]] = {}

        def on_update(live: FlowResult) -> None:
            self._live[key_holder["key"]] = live  # copied when read (see result())

        run = FlowRun(definition, params,
                      PlatformFlowInvoker(self.invoker, self.registry, scope, transport=transport),
                      on_update=on_update,
                      payments=FlowPayments(self.payments, scope) if self.payments else None,
                      faults=FlowFaults(self.invoker.faults, self.invoker.router, scope,
                                        self.invoker.call_timeout),
                      sockets=FlowSockets(self.invoker, scope))
        key_holder["key"] = (scope, run.flow_id)
        return run

    async def start(self, scope: Scope, flow: str, params: Mapping[str, Any] | None, *,
                    forwarded: bool = False) -> str:
        """Start a flow in the background; returns its id at once. When another worker holds the
        scope's socket the flow is started there (see the module docstring)."""
        run = self.prepare(scope, flow, params)
        if not forwarded and not self.invoker.router.holds(scope):
            flow_id = await self._start_at_holder(scope, flow, params)
            if flow_id is not None:
                return flow_id
        key = (scope, run.flow_id)
        self._live[key] = run.result
        # Served before it is stored: a worker that finds it stored IN_PROGRESS finds its owner.
        await self._serve_live(key)
        # Stored beside the run, not before it: the write cost a database transaction on the path
        # of every run (benchmarks/bench_flows.py). Until it lands, this worker answers from the
        # live snapshot and the bus, and recent() waits for it; the final write comes after it.
        stored = asyncio.create_task(self._store(scope, run.flow_id, _dump(run.result)),
                                     name=f"flow {run.flow_id} stored")
        self._writes.add(stored)
        stored.add_done_callback(self._writes.discard)
        task = asyncio.create_task(self._run(scope, run, stored), name=f"flow {flow} {run.flow_id}")
        self._tasks[key] = task
        return run.flow_id

    async def _store(self, scope: Scope, flow_id: str, result: dict[str, Any]) -> None:
        """The write of a run as it starts (IN_PROGRESS); a failure is logged, the run goes on."""
        try:
            await self.store.save_flow_result(scope, flow_id, result)
        except Exception:
            log.exception("flow %s: could not store its start", flow_id)
    async def _start_at_holder(self, scope: Scope, flow: str,
                               params: Mapping[str, Any] | None) -> str | None:
        """Start the flow on the worker holding the scope's socket: its id, or None to run it here
        (no worker holds a socket for the scope, or the bus could not carry the request)."""
        payload = json.dumps({"flow": flow, "params": dict(params or {})}).encode()
        try:
            if not self.bus.connected:
                await self.bus.start()  # joined lazily when the platform was not started
            raw = await self.bus.request(held_subject(FLOW_START, scope), payload, FORWARD_TIMEOUT)
        except NoResponders:
            return None
        except BusError as exc:
            log.warning("flow %s: could not start it on the worker holding the socket (%s); "
                        "running it here", flow, exc)
            return None
        answer = json.loads(raw)
        if "error" in answer:
            raise FlowRequestError(str(answer["error"]))
        return str(answer["flowId"])

    async def _serve_start(self, scope: Scope, payload: bytes) -> bytes:
        """The holder's side of :meth:`_start_at_holder`."""
        try:
            request = json.loads(payload)
            flow_id = await self.start(scope, str(request["flow"]), request.get("params"),
                                       forwarded=True)
        except FlowRequestError as exc:
            return json.dumps({"error": str(exc)}).encode()
        except (ValueError, KeyError, TypeError):
            return json.dumps({"error": "unreadable flow start request"}).encode()
        return json.dumps({"flowId": flow_id}).encode()

    async def _serve_live(self, key: tuple[Scope, str]) -> None:
        if not self.bus.connected:
            with contextlib.suppress(BusError):
                await self.bus.start()

        async def snapshot(payload: bytes) -> bytes:
            live = self._live.get(key)
            return json.dumps(_dump(live) if live is not None else None).encode()

        try:
            self._served[key] = await self.bus.serve(_flow_subject(*key), snapshot)
        except BusError:
            log.warning("flow %s: the bus is down; other workers see its stored state only", key[1])

    async def call(self, scope: Scope, capability: str, params: Mapping[str, Any],
                   transport: str | None = None) -> FlowResult:
        """One call, run to its end and kept like a flow (see :mod:`.single_call`)."""
        try:
            invoker = PlatformFlowInvoker(self.invoker, self.registry, scope,
                                          transport=parse_transport(transport))
            run = single_call_run(capability, params, invoker)
        except ValueError as exc:
            raise FlowRequestError(str(exc)) from None
        result = await run_flow(run, timeout=self.flow_timeout)
        await self.store.save_flow_result(scope, run.flow_id, _dump(result))
        return result

    async def _run(self, scope: Scope, run: FlowRun, stored: asyncio.Task[None]) -> FlowResult:
        key = (scope, run.flow_id)
        try:
            result = await run_flow(run, timeout=self.flow_timeout)
            await stored  # the start's write first, so it never overwrites the final result
            await self.store.save_flow_result(scope, run.flow_id, _dump(result))
            return result
        finally:
            self._tasks.pop(key, None)
            self._live.pop(key, None)
            served = self._served.pop(key, None)
            if served is not None:
                await served.stop()

    async def wait(self, scope: Scope, flow_id: str) -> FlowResult | None:
        """Wait for a run to end (tests, the demo); returns its final result."""
        task = self._tasks.get((scope, flow_id))
        if task is not None:
            return await asyncio.shield(task)
        result = await self.result(scope, flow_id)
        while result is not None and result.status is Status.IN_PROGRESS:  # run by another worker
            await asyncio.sleep(0.05)
            result = await self.result(scope, flow_id)
        return result

    async def _remote(self, scope: Scope, flow_id: str) -> tuple[bool | None, FlowResult | None]:
        """Ask the worker running the flow for its snapshot: (whether one answered, snapshot).

        Whether one answered is None when that cannot be told (the bus is down, or the answer came
        too late: a busy worker's flow is still running, not cut short)."""
        if not self.bus.connected:
            with contextlib.suppress(BusError):
                await self.bus.start()  # joined lazily when the platform was not started
        try:
            raw = await self.bus.request(_flow_subject(scope, flow_id), b"{}", 2.0)
        except NoResponders:
            return False, None
        except BusError:
            return None, None
        with contextlib.suppress(ValueError, ValidationError):
            data = json.loads(raw)
            if data is not None:
                return True, FlowResult.model_validate(data)
        return True, None

    async def result(self, scope: Scope, flow_id: str) -> FlowResult | None:
        live = self._live.get((scope, flow_id))
        if live is not None:
            return live.model_copy(deep=True)  # a snapshot: the run goes on changing it
        if self.bus.distributed:  # running on another worker? its snapshot, without a DB read
            answered, snapshot = await self._remote(scope, flow_id)
            if snapshot is not None:
                return snapshot
        stored = await self.store.get_flow_result(scope, flow_id)
        if stored is None:
            return None
        try:
            result = FlowResult.model_validate(stored)
        except ValidationError:
            log.error("stored flow result %s is unreadable", flow_id)
            return None
        if result.status is Status.IN_PROGRESS and (scope, flow_id) not in self._tasks:
            answered, snapshot = await self._remote(scope, flow_id)
            if answered:
                return snapshot or result
            if answered is None or not self.bus.connected:  # cannot tell whether one runs it
                return result
            stored = await self.store.get_flow_result(scope, flow_id)  # it may just have ended
            if stored is not None and stored.get("status") != Status.IN_PROGRESS.value:
                with contextlib.suppress(ValidationError):
                    return FlowResult.model_validate(stored)
            now = datetime.now(UTC)
            result.status = Status.FAILURE
            result.finished_at = now
            result.steps.append(StepResult(
                name="Flow interrupted", status=Status.FAILURE, started_at=now, finished_at=now,
                additional_information=["the platform stopped while this flow was running"]))
            # Recorded once, so the run ends the same way for every worker and every later read.
            await self.store.save_flow_result(scope, flow_id, _dump(result))
        return result

    async def settled(self) -> None:
        """Wait until the runs started here so far are stored (their start is written beside
        the run): what reads the store for them (lists, the dashboard's accounts) calls this."""
        if self._writes:
            await asyncio.wait(list(self._writes))

    async def recent(self, scope: Scope, limit: int = 50) -> list[FlowResult]:
        """The scope's latest runs, newest first (for the dashboard)."""
        await self.settled()  # a run just started is listed, as when it was stored before it ran
        found = []
        for flow_id in await self.store.flow_ids(scope, limit):
            result = await self.result(scope, flow_id)
            if result is not None:
                found.append(result)
        return found

    async def close(self) -> None:
        """Cancel runs still going (a platform shutting down)."""
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        if self._writes:  # a cancelled run's start is still stored (read as interrupted later)
            await asyncio.wait(list(self._writes))


def _flow_subject(scope: Scope, flow_id: str) -> str:
    return f"flow.{subject_token(f'{scope}/{flow_id}')}"


def _dump(result: FlowResult) -> dict[str, Any]:
    return result.to_wire()
