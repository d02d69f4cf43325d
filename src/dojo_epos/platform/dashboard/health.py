""""Is my integration healthy?": what the overview says per account, computed from what is stored.

Pure functions over the account's registrations, recent flow runs, recent calls and its socket:

* the latest Certification verdict per Dojo product (Pay at Table, Order and Pay, Bookings), read
  from the run's steps: a step named after the product or one of its sections ("Payments: ...")
  belongs to it; a failed step fails the product, steps all "skipped" mean it is not registered;
* the connector's state and since when (WebSocket connected at, or REST only, or not connected);
* the last error: the newest failed call that no flow expected (a flow's negative check, such as
  an unknown order answered NotFound, is expected and is never reported as an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.platform.store import CallRow, Registration

__all__ = ["PRODUCTS", "Connector", "Health", "Verdict", "health_of", "is_error", "verdicts"]

CERTIFICATION = "Certification"

#: Each product and the Certification sections that check it.
PRODUCTS: dict[str, tuple[str, ...]] = {
    "Pay at Table": ("Pay at Table", "Order detail", "Search", "Tables", "Areas", "Bill", "Locking",
                     "Payments"),
    "Order and Pay": ("Order and Pay",),
    "Bookings": ("Bookings",),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    product: str
    verdict: str  # PASS | FAIL | NOT REGISTERED | RUNNING | NOT RUN
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


def _product_of(step_name: str) -> str | None:
    head = step_name.split(":", 1)[0].strip()
    for product, sections in PRODUCTS.items():
        if head in sections:
            return product
    return None


def verdicts(runs: Sequence[FlowResult]) -> tuple[Verdict, ...]:
    """Per product, the verdict of the newest Certification run (``runs`` newest first)."""
    latest = next((r for r in runs if r.flow_name.split(" through ")[0] == CERTIFICATION), None)
    if latest is None:
        return tuple(Verdict(p, "NOT RUN", None, None) for p in PRODUCTS)
    found = []
    for product in PRODUCTS:
        steps = [s for s in latest.steps if _product_of(s.name) == product]
        failed = tuple(s.name for s in steps if s.status in (Status.FAILURE, Status.TIMED_OUT))
        if failed:
            verdict = "FAIL"
        elif latest.status is Status.IN_PROGRESS:
            verdict = "RUNNING"
        elif not steps or all(s.name.endswith(": skipped") for s in steps):
            verdict = "NOT REGISTERED"
        else:
            verdict = "PASS"
        found.append(Verdict(product, verdict, latest.flow_id,
                             latest.finished_at or latest.started_at, failed))
    return tuple(found)


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
