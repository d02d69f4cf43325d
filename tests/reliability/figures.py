"""The suite's figures: what it tried, what it broke on purpose, what it checked afterwards.

Tests add to the one :data:`FIGURES` object; ``conftest.py`` prints it at the end of the run and
writes it to ``test-artifacts/reliability.json`` (the README's Reliability section quotes it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: What the time from a drop to the first good answer should stay under (issue 14, item 5).
TARGET_SECONDS = 2.0


@dataclass
class DropFigure:
    """One socket fault with payments in flight: how long until the EPOS is back and answering.

    Every time is counted from the moment the platform dropped (or closed) the socket."""

    fault: str
    database: str
    in_flight: int
    """Payments sent and not yet answered when the socket went (they fail, and are re-sent)."""
    reconnect: float
    """Until the connector's new socket is the scope's live one."""
    first_good: float
    """Until the first good answer over the new socket (the payment that hit the fault, re-sent
    alone with the same paymentIntentId as soon as the socket is back)."""
    all_resent: float
    """Until every payment cut by the drop, re-sent at once after the first, is answered."""
    rest_same_db: float
    """A payment sent over REST at the drop, to a second EPOS process on the same database."""
    baseline: float
    """For scale: as many payments at once with no fault, until the last answer."""

    def row(self) -> tuple[str, ...]:
        met = "met" if max(self.first_good, self.rest_same_db) < TARGET_SECONDS else "NOT met"
        return (self.fault, self.database, str(self.in_flight), f"{self.reconnect:.2f} s",
                f"{self.first_good:.2f} s", f"{self.all_resent:.2f} s",
                f"{self.rest_same_db:.2f} s", f"{self.baseline:.2f} s", met)


DROP_HEADER = ("fault", "database", "in flight", "reconnect", "first good answer", "all re-sent",
               "REST, same db", "baseline", f"< {TARGET_SECONDS:g} s")


@dataclass
class Figures:
    """Counters summed over every reliability test that ran in this session."""

    requests_tried: int = 0
    """Requests and frames sent to a server, good or bad."""
    bad_inputs_tried: int = 0
    """Of those, the ones built to be refused (negative data, broken frames, bad credentials)."""
    boundary_cases_tried: int = 0
    """Of the requests, those carrying one boundary value (64-bit limits, years 1/9999, NUL, lone
    surrogates, very long strings) in one field; see ``tests/reliability/boundaries.py``."""
    faults_injected: int = 0
    """Processes killed, sockets dropped, servers stopped, handlers stalled."""
    payments_acknowledged: int = 0
    """Payments an EPOS answered 200 to (so they must be stored, once)."""
    payments_reconciled: int = 0
    """Stored payments checked against the acknowledgements after a storm or a fault."""
    orders_reconciled: int = 0
    """Orders whose paidAmount was checked to be the sum of their distinct payments."""
    conflicts: int = 0
    """409 / Conflict answers (lost lock races, orders already paid)."""
    retries: int = 0
    """Payment retries with the same paymentIntentId after a time-out, 5xx or dropped socket."""
    storm_seconds: float = 0.0
    """Wall time of the payment storms, for throughput."""
    reconnect_seconds: list[float] = field(default_factory=list)
    """How long a connector took to be connected again after its platform came back."""
    notes: dict[str, Any] = field(default_factory=dict)
    """Named extras (e.g. what happens past a connector's max_concurrency)."""
    drops: list[DropFigure] = field(default_factory=list)
    """Per socket fault and database: the times after a drop with payments in flight."""

    def touched(self) -> bool:
        return any((self.requests_tried, self.faults_injected, self.payments_reconciled,
                    self.drops))

    def drop_table(self) -> list[tuple[str, ...]]:
        """The header and one row per measured drop (fault, then database), for the report."""
        return [DROP_HEADER, *(d.row() for d in sorted(self.drops,
                                                       key=lambda d: (d.fault, d.database)))]

    def throughput(self) -> float:
        """Acknowledged payments per second over the storms (0 when none ran)."""
        if self.storm_seconds <= 0:
            return 0.0
        return self.payments_acknowledged / self.storm_seconds

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["storm_seconds"] = round(self.storm_seconds, 3)
        data["throughput_payments_per_second"] = round(self.throughput(), 1)
        data["reconnect_seconds"] = [round(s, 3) for s in self.reconnect_seconds]
        data["reconnect_seconds_max"] = round(max(self.reconnect_seconds, default=0.0), 3)
        data["drops"] = [{k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(d).items()}
                         for d in self.drops]
        return data

    def rows(self) -> list[tuple[str, str]]:
        reconnect = (f"{max(self.reconnect_seconds):.2f} s max over {len(self.reconnect_seconds)}"
                     if self.reconnect_seconds else "not measured")
        return [
            ("requests tried", str(self.requests_tried)),
            ("bad inputs tried", str(self.bad_inputs_tried)),
            ("boundary cases tried", str(self.boundary_cases_tried)),
            ("faults injected", str(self.faults_injected)),
            ("payments acknowledged", str(self.payments_acknowledged)),
            ("payments reconciled", str(self.payments_reconciled)),
            ("orders reconciled", str(self.orders_reconciled)),
            ("conflicts", str(self.conflicts)),
            ("retries (same paymentIntentId)", str(self.retries)),
            ("throughput", f"{self.throughput():.1f} payments/s"
                           if self.storm_seconds else "no storm ran"),
            ("reconnect time", reconnect),
        ]


FIGURES = Figures()
