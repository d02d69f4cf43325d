"""Single calls: one capability, with the caller's params, read as a flow with one step.

The tester's answer to "call GetOrderById with orderId 7 over ws and show me exactly what happened".
The result is a :class:`FlowResult` like every other run's (so the API, the dashboard and the CLI read
it the same way): flow ``Call <Capability>``, one step ``Call <Capability> over <transport>`` whose
details are the exact request sent (``request: {...}``), the reply as it came back (``reply: {...}``),
the duration, and the verdict (``schema: valid (Order)``, the EPOSError, the schema violation, or the
time-out). SUCCESS only for a reply that is a valid result; an EPOSError or a schema violation is
FAILURE, no answer within the call time-out TIMED_OUT. Params are sent as given (not validated
first), so one can see how an EPOS answers bad input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dojo_epos.contract.capabilities import Capability, UnknownCapability, lookup
from dojo_epos.contract.tester_models import REPLY_LINE, REQUEST_LINE
from dojo_epos.platform.outcome import Failure

from .engine import FlowDef, FlowInvoker, FlowRun, StepFailed, StepTimedOut

__all__ = ["single_call_run"]


def _json(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _definition(capability: Capability, params: Mapping[str, Any]) -> FlowDef:
    async def call(run: FlowRun) -> None:
        transport, _why = await run.invoker.transport()
        async with run.step(f"Call {capability.name} over {transport}") as step:
            outcome = await run.invoker.call(capability.name, params)
            step.info(REQUEST_LINE + _json(outcome.request))
            if outcome.request is None:
                step.info(f"nothing was sent; the params were {_json(params)}")
            step.info(REPLY_LINE + _json(outcome.reply))
            step.info(f"duration: {outcome.duration_ms:.1f} ms")
            if outcome.failure is Failure.TIMED_OUT:
                raise StepTimedOut(f"no answer within the call time-out: {outcome.detail}")
            if outcome.failure is Failure.NOT_REGISTERED:
                raise StepFailed(f"{capability.name} method not found",
                                 f"Please register the {capability.name} method on an EPOS Data API "
                                 "adapter", outcome.detail or "")
            if outcome.failure is Failure.SCHEMA_VIOLATION:
                raise StepFailed(f"schema: violation: {outcome.detail}")
            if outcome.failure is not None and outcome.failure is not Failure.EPOS_ERROR:
                raise StepFailed(f"{outcome.failure.value}: {outcome.detail}")
            if outcome.error is not None:
                raise StepFailed(f"EPOS error: {outcome.error.error_type.value}"
                                 + (f": {outcome.error.debug_message}" if outcome.error.debug_message
                                    else ""))
            step.info(f"schema: valid ({capability.result.__name__})")

    return FlowDef(f"Call {capability.name}", (), call, f"One call of {capability.name}",
                   (capability.name,))


def single_call_run(capability_name: str, params: Mapping[str, Any], invoker: FlowInvoker) -> FlowRun:
    """The run of one call of ``capability_name`` (any name or alias); raises ValueError if unknown."""
    try:
        capability = lookup(capability_name)
    except UnknownCapability:
        raise ValueError(f"{capability_name!r} is not a capability of the EPOS Data API") from None
    return FlowRun(_definition(capability, dict(params)), dict(params), invoker)
