"""The resilience flows, and the Resilience section Certification runs them in (issue 14, item 2).

Socket-level flows (:mod:`.sockets`: Keepalive, Reconnect, Replaced socket; WebSocket only) and
call-level flows (Lost reply, Duplicate delivery, Slow network). The section runs Keepalive, then
the call-level flows (Lost reply's drop is also a first reconnect check), then Reconnect, whose
refused handshakes leave a well-behaved EPOS backing off for a while (its back-off resets only once
a connection has stayed up), and Replaced socket last: an EPOS that honours close code 4000 by
stopping is not connected afterwards (reconnect it before running other flows).

The section runs every resilience flow that applies over the run's transport
(:attr:`~..engine.FlowDef.transports`), each one whole, with its steps named ``Resilience: <flow>:
<step>``; the section stops at its first failed flow (its status, and the names of the flows
that did not run after it), as a flow stops at its first failed step. Over
REST the flows that need a socket are named in one informational step, :data:`NOT_OVER_REST_STEP`,
each on a :data:`~dojo_epos.contract.tester_models.LEFT_OUT_PREFIX` line (JUnit: ``<skipped/>``):
a REST registration is certified on the resilience flows that apply to it (Lost reply as a re-send
after a time-out, Slow network), and nothing that did not run is reported SUCCESS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dojo_epos.contract.tester_models import LEFT_OUT_PREFIX, NOT_OVER_REST_STEP, Param

from ..engine import FlowDef, FlowRun, StepFailed
from .duplicate_delivery import DUPLICATE_DELIVERY
from .lost_reply import LOST_REPLY
from .slow_network import SLOW_NETWORK
from .sockets import KEEPALIVE, RECONNECT, REPLACED_SOCKET, SOCKET_RESILIENCE

__all__ = ["CALL_RESILIENCE", "NOT_OVER_REST_STEP", "RESILIENCE", "RESILIENCE_FLOWS"]

#: The call-level resilience flows.
CALL_RESILIENCE: tuple[FlowDef, ...] = (LOST_REPLY, DUPLICATE_DELIVERY, SLOW_NETWORK)
#: The socket flows as the section runs them: over the WebSocket only.
_SOCKET = {f.name: replace(f, transports=("ws",)) for f in SOCKET_RESILIENCE}
#: Every resilience flow, in the order the section runs them (see the module's text).
RESILIENCE_FLOWS: tuple[FlowDef, ...] = (
    _SOCKET[KEEPALIVE.name], *CALL_RESILIENCE, _SOCKET[RECONNECT.name], _SOCKET[REPLACED_SOCKET.name])
assert {f.name for f in RESILIENCE_FLOWS} >= set(_SOCKET), "a socket flow is missing from the order"


async def resilience(run: FlowRun) -> None:
    transport = (await run.invoker.transport())[0]
    flows = [f for f in RESILIENCE_FLOWS if transport in f.transports]
    skipped = [f for f in RESILIENCE_FLOWS if transport not in f.transports]
    if skipped:
        async with run.step(NOT_OVER_REST_STEP if transport == "rest" else
                            f"Not over {transport}") as step:
            for flow in skipped:
                step.info(f"{LEFT_OUT_PREFIX}{flow.name} (over {', '.join(flow.transports)} only)")
    saved_definition, saved_prefix = run.definition, run.prefix
    try:
        for n, flow in enumerate(flows):
            run.definition, run.prefix = flow, f"{saved_prefix}{flow.name}: "
            try:
                await flow.run(run)
            except StepFailed as exc:  # the section stops here, as a flow stops at a failed step
                rest = [f.name for f in flows[n + 1:]]
                messages = [f"{flow.name}: {'; '.join(exc.messages)}"]
                if rest:
                    messages.append(f"not run after it: {', '.join(rest)}")
                raise type(exc)(*messages) from exc
    finally:
        run.definition, run.prefix = saved_definition, saved_prefix


def _capabilities() -> tuple[str, ...]:
    names: list[str] = []
    for flow in RESILIENCE_FLOWS:
        names += [c for c in flow.capabilities if c not in names]
    return tuple(names)


def _params() -> tuple[Param, ...]:
    """Every resilience flow's parameters, once each (they are passed on to the flows)."""
    found: dict[str, Param] = {}
    for flow in RESILIENCE_FLOWS:
        for param in flow.params:
            found.setdefault(param.name, param)
    return tuple(found.values())


def _check_params(params: Mapping[str, Any]) -> str | None:
    for flow in RESILIENCE_FLOWS:
        if flow.check_params is not None:
            own = {p.name for p in flow.params}
            problem = flow.check_params({k: v for k, v in params.items() if k in own})
            if problem:
                return problem
    return None


RESILIENCE = FlowDef(
    "Resilience", _params(), resilience,
    "Every resilience flow that applies over the run's transport, one after the other",
    _capabilities(), check_params=_check_params)
