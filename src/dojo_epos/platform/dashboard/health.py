""""Is my integration healthy?": what the overview says per account, computed from what is stored.

Pure functions over the account's registrations, recent flow runs, recent calls and its socket:

* the latest Certification verdict per Dojo product, read from the run's verdict step for that
  product; a product the run did not target is "not targeted", never a pass;
* the connector's state and since when (WebSocket connected at, or REST only, or not connected);
* the last error: the newest failed call that no flow expected (a flow's negative check, such as
  an unknown order answered NotFound, is expected and is never reported as an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dojo_epos.contract.capabilities import Product
from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.platform.store import CallRow, Registration

__all__ = ["PRODUCTS", "Connector", "Health", "Verdict", "health_of", "is_error", "verdicts"]

CERTIFICATION = "Certification"

#: The products Certification gives a verdict on, in the order the overview lists them.
PRODUCTS: tuple[str, ...] = tuple(p.value for p in Product)

#: Certification's step that holds a product's verdict (tester/flows/certification.py).
VERDICT_STEP = "{product}: verdict"


@dataclass(frozen=True, slots=True)
class Verdict:
    product: str
    verdict: str  # PASS | FAIL | TIMED OUT | RUNNING | NOT TARGETED | NOT RUN
    flow_id: str | None
    at: datetime | None
    failed_steps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Connector:
    state: str  # "connected" | "REST only" | "not connected" | "never registered"
    since: datetime | None
    detail: str


@dataclass(frozen=True, slots=True)
class Health:
    registered: bool
    verdicts: tuple[Verdict, ...]
    connector: Connector
    last_error: CallRow | None
    errors: int
    expected: int
    calls: int


def is_error(call: CallRow) -> bool:
    """A failed call no flow expected."""
    return call.outcome != "ok" and not call.expected


def verdicts(runs: Sequence[FlowResult]) -> tuple[Verdict, ...]:
    """Per product, the verdict of the newest Certification run (``runs`` newest first).

    Read from the run's own verdict step per targeted product ("Pay at Table: verdict"): its
    status is the verdict, its last line says why. A product that run did not target is NOT
    TARGETED, never PASS: nothing that did not run is shown as passing.
    """
    latest = next((r for r in runs if r.flow_name.split(" through ")[0] == CERTIFICATION), None)
    if latest is None:
        return tuple(Verdict(p, "NOT RUN", None, None) for p in PRODUCTS)
    by_name = {s.name: s for s in latest.steps}
    at = latest.finished_at or latest.started_at
    found = []
    for product in PRODUCTS:
        step = by_name.get(VERDICT_STEP.format(product=product))
        if step is None:
            found.append(Verdict(product, "NOT TARGETED", latest.flow_id, at))
            continue
        verdict = _VERDICTS[step.status]
        why = tuple(step.additional_information[-1:]) if verdict in ("FAIL", "TIMED OUT") else ()
        found.append(Verdict(product, verdict, latest.flow_id, at, why))
    return tuple(found)


_VERDICTS = {Status.SUCCESS: "PASS", Status.FAILURE: "FAIL", Status.TIMED_OUT: "TIMED OUT",
             Status.IN_PROGRESS: "RUNNING"}


def connector_of(registrations: Sequence[Registration], connected_at: datetime | None) -> Connector:
    transports = {r.transport for r in registrations}
    if not transports:
        return Connector("never registered", None,
                         "this key and software house have never registered an EPOS: "
                         "check the key you typed")
    if connected_at is not None:
        return Connector("connected", connected_at, "EPOS socket connected")
    if "ws" in transports:
        updated = max(r.updated_at for r in registrations if r.transport == "ws")
        rest = " (REST is used meanwhile)" if "rest" in transports else ""
        return Connector("not connected", updated, "registered over the WebSocket, no socket "
                         f"connected{rest}; since = registered at")
    updated = max(r.updated_at for r in registrations)
    return Connector("REST only", updated, "reached over REST; since = registered at")


def health_of(registrations: Sequence[Registration], runs: Sequence[FlowResult],
              calls: Sequence[CallRow], connected_at: datetime | None) -> Health:
    """The account's health (``runs`` and ``calls`` newest first)."""
    errors = [c for c in calls if is_error(c)]
    return Health(
        registered=bool(registrations),
        verdicts=verdicts(runs),
        connector=connector_of(registrations, connected_at),
        last_error=errors[0] if errors else None,
        errors=len(errors),
        expected=sum(1 for c in calls if c.expected and c.outcome != "ok"),
        calls=len(calls),
    )
