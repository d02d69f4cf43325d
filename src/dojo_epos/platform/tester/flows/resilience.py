"""The resilience flows, and the Resilience section Certification runs them in (issue 14, item 2).

Call-level flows (this package): Lost reply, Duplicate delivery, Slow network. Socket-level flows
(Reconnect, Keepalive, Replaced socket) join :data:`RESILIENCE_FLOWS` through
:data:`SOCKET_RESILIENCE` when they land; the section runs them first (a socket that does not come
back makes every call-level result moot).

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

from dojo_epos.contract.tester_models import LEFT_OUT_PREFIX, NOT_OVER_REST_STEP

from ..engine import FlowDef, FlowRun, StepFailed
from ._common import _p
from ._resilient import PAYMENT_CAPABILITIES
from .duplicate_delivery import DUPLICATE_DELIVERY
from .lost_reply import LOST_REPLY
from .slow_network import SLOW_NETWORK

__all__ = ["CALL_RESILIENCE", "NOT_OVER_REST_STEP", "RESILIENCE", "RESILIENCE_FLOWS",
           "SOCKET_RESILIENCE"]

#: The call-level resilience flows.
CALL_RESILIENCE: tuple[FlowDef, ...] = (LOST_REPLY, DUPLICATE_DELIVERY, SLOW_NETWORK)
#: Hook for the socket-level flows (Reconnect, Keepalive, Replaced socket): their tuple goes here
#: when their module lands; until then the section runs the call-level flows only.
SOCKET_RESILIENCE: tuple[FlowDef, ...] = ()
#: Every resilience flow, in the order the section runs them.
RESILIENCE_FLOWS: tuple[FlowDef, ...] = (*SOCKET_RESILIENCE, *CALL_RESILIENCE)


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
    return tuple(names) or PAYMENT_CAPABILITIES


RESILIENCE = FlowDef(
    "Resilience", (
        _p("delay", "number", "Seconds the network adds in Slow network", default="1"),
        _p("reconnectWithin", "number", "Seconds the EPOS has to reconnect in Lost reply",
           default="10"),
    ), resilience,
    "Every resilience flow that applies over the run's transport, one after the other",
    _capabilities())
