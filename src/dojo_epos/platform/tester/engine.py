"""The flow engine: runs a flow's steps over an invoker and records every step as it goes.

A flow is an async function ``flow(run: FlowRun) -> None`` that opens steps with ``run.step(name)``
and makes calls with ``run.call(step, capability, params)``. The engine turns what happens into the
tester API's FlowResult: a step that returns normally is SUCCESS; one that fails a check is FAILURE
with the reasons in ``additionalInformation``; one whose call timed out is TIMED_OUT. A flow stops at
its first step that does not succeed, and takes that step's status. Every change is published through
``on_update`` so the API and the dashboard see the run live.

The engine does not choose transports: the invoker says which one the run uses (asked for with the
``transport`` parameter, or by the default rule, see :mod:`.transport`), and the first step of every
run names it in its details (``transport: ws (...)``), which :func:`transport_of` reads back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from dojo_epos.contract.capabilities import lookup
from dojo_epos.contract.errors import ErrorType
from dojo_epos.contract.tester_models import FlowResult, Param, Status, StepResult
from dojo_epos.platform.outcome import Failure, InvocationResult

__all__ = [
    "FlowDef",
    "FlowInvoker",
    "FlowRun",
    "StepFailed",
    "StepTimedOut",
    "run_flow",
    "transport_of",
]

if TYPE_CHECKING:
    from .faults_port import FlowFaults
    from .payments_port import FlowPayments
    from .sockets_port import FlowSockets

log = logging.getLogger("dojo_epos.tester")


class FlowInvoker(Protocol):
    """What the engine needs from the platform: call a capability, list what is registered."""

    async def call(
        self, capability: str, params: Mapping[str, Any], headers: Mapping[str, str] | None = None,
        *, expect_error: ErrorType | tuple[ErrorType, ...] | None = None,
    ) -> InvocationResult:
        """Make the call; ``expect_error`` is the EPOSError the step checks for (or allows), so
        the call log can show it as expected rather than as a failure."""
        ...

    async def registered(self) -> set[str]:
        """Canonical names of the capabilities registered for this scope (on the run's transport)."""
        ...

    async def transport(self) -> tuple[str, str]:
        """The transport the run's calls use (``rest`` or ``ws``) and why, e.g. ``"asked for"``."""
        ...


TRANSPORT_LINE = "transport: "


def transport_of(result: FlowResult) -> str | None:
    """The transport a run used, as its first step names it (None for a run without steps)."""
    if not result.steps:
        return None
    for line in result.steps[0].additional_information:
        if line.startswith(TRANSPORT_LINE):
            return line[len(TRANSPORT_LINE):].split(" ", 1)[0]
    return None


class StepFailed(Exception):
    """A step's check failed; the messages go to ``additionalInformation``."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class StepTimedOut(StepFailed):
    """A call in the step got no answer within the platform's call time-out."""


@dataclass(frozen=True, slots=True)
class FlowDef:
    """A flow the tester offers: request name, result name, params and the coroutine to run."""

    name: str
    params: tuple[Param, ...]
    run: Callable[[FlowRun], Awaitable[None]]
    description: str = ""
    capabilities: tuple[str, ...] = ()
    """Capabilities the flow needs (canonical names), stated once: :meth:`FlowRun.require` checks
    them as the flow's first step and Certification reads them to decide what a section needs."""
    check_params: Callable[[Mapping[str, Any]], str | None] | None = None
    """Checks the flow's own parameters before a run starts: the problem, or None when fine."""
    transports: tuple[str, ...] = ("rest", "ws")
    """The transports the flow applies to (a socket fault has no meaning over REST): a run over
    another one fails at its transport check, saying so (see :mod:`.flows._resilient`)."""

    @property
    def flow_name(self) -> str:
        """Dojo's naming: the result of flow ``Get Order`` is ``Get Order through EPOS Data API``."""
        return f"{self.name} through EPOS Data API"


def _now() -> datetime:
    return datetime.now(UTC)


def _short(value: Any, limit: int = 600) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    try:
        text = json.dumps(value, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class StepHandle:
    """The step being run: add lines to its report, or fail it with :meth:`check`."""

    result: StepResult
    run: FlowRun

    def info(self, line: str) -> None:
        self.result.additional_information.append(line)
        self.run.publish()

    def check(self, condition: bool, message: str) -> None:
        """Fail the step with ``message`` unless ``condition`` holds."""
        if not condition:
            raise StepFailed(message)


@dataclass
class FlowRun:
    """One run of one flow: its parameters, its invoker and the result being built."""

    definition: FlowDef
    params: dict[str, Any]
    invoker: FlowInvoker
    on_update: Callable[[FlowResult], None] | None = None
    """Called with the run's live result after every change (synchronously: keep it cheap, e.g.
    keep a reference; it goes on changing, so copy it before holding it across an ``await``;
    persist the final result from what :func:`run_flow` returns). A deep copy per change cost
    ~0.1 ms a step twice over (benchmarks/bench_flows.py); readers are far fewer than changes."""
    flow_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    result: FlowResult = field(init=False)
    prefix: str = ""
    """Put before each step's name (Certification names the checklist section this way)."""
    payments: FlowPayments | None = None
    """The run's account on the payments service (the Refund and Webhook flows use it)."""
    faults: FlowFaults | None = None
    """The run's scope on the fault book and its EPOS socket (the resilience flows use it)."""
    sockets: FlowSockets | None = None
    """The run's handle on its scope's EPOS socket (the socket resilience flows use it)."""
    _registered: set[str] | None = field(default=None, init=False)
    _transport_line: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.result = FlowResult(
            flow_id=self.flow_id,
            flow_name=self.definition.flow_name,
            status=Status.IN_PROGRESS,
            started_at=_now(),
        )

    def publish(self) -> None:
        if self.on_update is not None:
            self.on_update(self.result)

    def param(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value in (None, "") else value

    @asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[StepHandle]:
        """Run one step; its status follows how the block ends (see the module docstring)."""
        step = await self.open_step(self.prefix + name)
        handle = StepHandle(step, self)
        try:
            yield handle
        except StepTimedOut as exc:
            self._finish_step(step, Status.TIMED_OUT, exc.messages)
            raise
        except StepFailed as exc:
            self._finish_step(step, Status.FAILURE, exc.messages)
            raise
        except Exception as exc:
            log.exception("tester step %r crashed", name)
            self._finish_step(step, Status.FAILURE, [f"tester error: {type(exc).__name__}"])
            raise StepFailed(f"tester error: {type(exc).__name__}") from exc
        else:
            self._finish_step(step, Status.SUCCESS, [])

    async def open_step(self, name: str) -> StepResult:
        """Add a step IN_PROGRESS (the first one of a run will name the transport when it ends).

        Flows use :meth:`step`; Certification opens its verdict steps this way and ends them with
        :meth:`finish_step` once every section has run.
        """
        step = StepResult(name=name, status=Status.IN_PROGRESS, started_at=_now())
        first = not self.result.steps
        self.result.steps.append(step)
        if first:
            transport, why = await self.invoker.transport()
            self._transport_line = f"{TRANSPORT_LINE}{transport} ({why})"
        self.publish()
        return step

    def finish_step(self, step: StepResult, status: Status, lines: list[str]) -> None:
        """End a step opened with :meth:`open_step`."""
        self._finish_step(step, status, lines)

    def _finish_step(self, step: StepResult, status: Status, lines: list[str]) -> None:
        step.status = status
        step.additional_information.extend(lines)
        if step is self.result.steps[0] and self._transport_line:
            # the first step names the run's transport, after its own lines (Dojo's sentences first)
            step.additional_information.append(self._transport_line)
            self._transport_line = ""
        step.finished_at = _now()
        self.publish()

    async def registered(self) -> set[str]:
        if self._registered is None:
            self._registered = await self.invoker.registered()
        return self._registered

    async def require(self, *capabilities: str, label: str | None = None) -> None:
        """The first step of a flow: every capability it needs is registered.

        Without arguments, the capabilities are the flow's own (:attr:`FlowDef.capabilities`).
        The failure text is Dojo's: "<Cap> method not found" and "Please register the <Cap> method
        on an EPOS Data API adapter". ``label`` is the name used in those texts (the Get Order flow
        says ``GetOrder``, as Dojo's tool does).
        """
        capabilities = capabilities or self.definition.capabilities
        names = label or ", ".join(capabilities)
        async with self.step(f"Check whether {names} has been registered") as step:
            have = await self.registered()
            missing = [c for c in capabilities if lookup(c).name not in have]
            if missing:
                shown = [label] if label else missing
                lines = []
                for cap in shown:
                    lines += [f"{cap} method not found",
                              f"Please register the {cap} method on an EPOS Data API adapter"]
                raise StepFailed(*lines)
            step.info(f"registered: {', '.join(capabilities)}")

    async def call(
        self,
        step: StepHandle,
        capability: str,
        params: Mapping[str, Any],
        *,
        expect_error: ErrorType | tuple[ErrorType, ...] | None = None,
        allow_error: ErrorType | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Invoke a capability within ``step`` and return its validated result model.

        With ``expect_error`` the call must fail with that EPOSError type (or one of those types),
        and the error is returned instead; with ``allow_error`` that error type is returned rather
        than failing.
        Anything else fails the step, naming what was sent and what came back.
        """
        outcome = await self.invoker.call(capability, params, headers,
                                          expect_error=expect_error or allow_error)
        step.info(f"sent {capability} {_short(outcome.request if outcome.request else params)}")
        if outcome.failure is Failure.TIMED_OUT:
            raise StepTimedOut(f"{capability} timed out: {outcome.detail}")
        if outcome.failure is not None and outcome.failure is not Failure.EPOS_ERROR:
            raise StepFailed(f"{capability} failed ({outcome.failure}): {outcome.detail}")
        if expect_error is not None:
            expected = expect_error if isinstance(expect_error, tuple) else (expect_error,)
            wanted = " or ".join(e.value for e in expected)
            if outcome.error is None:
                raise StepFailed(f"expected {wanted} from {capability}, got a result: "
                                 f"{_short(outcome.result)}")
            if outcome.error.error_type not in expected:
                raise StepFailed(f"expected {wanted} from {capability}, got "
                                 f"{_short(outcome.error.to_wire())}")
            step.info(f"got {outcome.error.error_type.value} as expected: "
                      f"{outcome.error.debug_message or ''}")
            return outcome.error
        if outcome.error is not None:
            if allow_error is not None and outcome.error.error_type is allow_error:
                return outcome.error
            raise StepFailed(f"{capability} answered {_short(outcome.error.to_wire())}")
        step.info(f"got {_short(outcome.result)} in {outcome.duration_ms:.0f} ms")
        return outcome.result


async def run_flow(run: FlowRun, *, timeout: float | None = None) -> FlowResult:
    """Run ``run`` to the end and return its final result (also published via ``on_update``).

    ``timeout`` bounds the whole flow: past it, the running step and the flow are TIMED_OUT, so a
    flow never hangs whatever the EPOS does.
    """
    try:
        await asyncio.wait_for(run.definition.run(run), timeout)
    except StepTimedOut:
        run.result.status = Status.TIMED_OUT
    except StepFailed:
        run.result.status = Status.FAILURE
    except TimeoutError:
        for step in run.result.steps:
            if step.status is Status.IN_PROGRESS:
                step.status = Status.TIMED_OUT
                step.finished_at = _now()
                step.additional_information.append(f"flow time-out of {timeout:g} s reached")
        run.result.status = Status.TIMED_OUT
    except Exception as exc:  # a bug in a flow must still end the run, not leave it IN_PROGRESS
        log.exception("flow %s crashed", run.definition.name)
        run.result.status = Status.FAILURE
        run.result.steps.append(StepResult(
            name="Tester error", status=Status.FAILURE, started_at=_now(), finished_at=_now(),
            additional_information=[f"{type(exc).__name__}: {exc}"[:300]]))
    else:
        run.result.status = Status.SUCCESS
    run.result.finished_at = _now()
    run.publish()
    return run.result
