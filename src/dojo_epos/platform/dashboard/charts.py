"""Pictures of an account's traffic over the last hour: calls per minute, p50/p99 latency, errors.

Pure: the call log rows in, chart geometry out; ``_charts.html`` draws it as inline SVG (no script,
no external asset, every label escaped by the template). Minutes are UTC, the newest on the right.
Errors are the failed calls no flow expected (:func:`.health.is_error`), stacked by type; a flow's
expected refusals are counted apart, as expected. Per capability, a table gives the same figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dojo_epos.platform.store import CallRow

from .health import is_error

__all__ = ["Bar", "Chart", "Traffic", "percentile", "traffic"]

MINUTES = 60
#: The SVG's own units: sized for a phone's width, so its 11-unit labels stay readable there.
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM = 360, 150, 46, 18
#: Fill colours per error type (the palette is the stylesheet's; unknown types share the last).
ERROR_COLOURS = {"EposErrorReply": "#b3261e", "TimedOut": "#8a4b00", "SchemaViolation": "#6a1b9a",
                 "TransportError": "#37474f", "NotConnected": "#455a64", "NotRegistered": "#5d4037",
                 "InvalidParams": "#1565c0"}
OTHER_COLOUR = "#616161"


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; 0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 1))))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    """One SVG chart: bars and/or polylines, a y-axis top label, and a one-line summary."""

    title: str
    summary: str
    top: str
    bars: tuple[Bar, ...] = ()
    lines: tuple[tuple[str, str, str], ...] = ()  # (points, colour, name)
    dots: tuple[tuple[float, float, str, str], ...] = ()  # (x, y, colour, title): one per point
    legend: tuple[tuple[str, str], ...] = ()  # (colour, name)


@dataclass(frozen=True, slots=True)
class CapabilityRow:
    capability: str
    calls: int
    errors: int
    expected: int
    p50: float
    p99: float


@dataclass(frozen=True, slots=True)
class Traffic:
    since: datetime
    until: datetime
    charts: tuple[Chart, ...]
    rows: tuple[CapabilityRow, ...]
    calls: int
    width: int = WIDTH
    height: int = HEIGHT
    pad_left: int = PAD_LEFT
    pad_bottom: int = PAD_BOTTOM


def _minute_of(call: CallRow, since: datetime) -> int | None:
    index = int((call.started_at - since).total_seconds() // 60)
    return index if 0 <= index < MINUTES else None


def _x(minute: int) -> float:
    return PAD_LEFT + minute * (WIDTH - PAD_LEFT) / MINUTES


def _y(value: float, top: float) -> float:
    plot = HEIGHT - PAD_BOTTOM
    return plot - (value / top) * (plot - 4) if top else plot


def _nice(value: float) -> float:
    """A round axis top at or above ``value``."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step


def _label(minute: int, since: datetime) -> str:
    return (since + timedelta(minutes=minute)).strftime("%H:%M")


def traffic(calls: Sequence[CallRow], now: datetime, capability: str = "") -> Traffic:
    """The last hour of ``calls`` (any order), of one capability or all, as charts and a table."""
    since = (now - timedelta(minutes=MINUTES - 1)).replace(second=0, microsecond=0)
    in_hour = [(m, c) for c in calls if (m := _minute_of(c, since)) is not None]
    rows = _rows([c for _m, c in in_hour])
    chosen = [(m, c) for m, c in in_hour if not capability or c.capability == capability]
    per_minute: list[list[CallRow]] = [[] for _ in range(MINUTES)]
    for minute, call in chosen:
        per_minute[minute].append(call)
    charts = (_volume(per_minute, since), _latency(per_minute, since), _errors(per_minute, since))
    return Traffic(since, now, charts, rows, len(chosen))


def _rows(calls: Sequence[CallRow]) -> tuple[CapabilityRow, ...]:
    by_cap: dict[str, list[CallRow]] = {}
    for call in calls:
        by_cap.setdefault(call.capability, []).append(call)
    return tuple(CapabilityRow(
        cap, len(found), sum(1 for c in found if is_error(c)),
        sum(1 for c in found if c.expected and c.outcome != "ok"),
        percentile([c.duration_ms for c in found], 0.5), percentile([c.duration_ms for c in found], 0.99),
    ) for cap, found in sorted(by_cap.items()))


def _volume(per_minute: list[list[CallRow]], since: datetime) -> Chart:
    counts = [len(m) for m in per_minute]
    top = _nice(max(counts))
    slot = (WIDTH - PAD_LEFT) / MINUTES
    bars = tuple(Bar(_x(i), _y(n, top), max(slot - 1, 1), _y(0, top) - _y(n, top), "#1f5fbf",
                     f"{_label(i, since)}: {n} calls") for i, n in enumerate(counts) if n)
    busiest = max(range(MINUTES), key=lambda i: counts[i])
    summary = (f"{sum(counts)} calls in the hour; busiest minute {_label(busiest, since)} with "
               f"{counts[busiest]}" if sum(counts) else "no calls in the last hour")
    return Chart("Calls per minute", summary, f"{top:g}", bars=bars)


def _latency(per_minute: list[list[CallRow]], since: datetime) -> Chart:
    p50 = [percentile([c.duration_ms for c in m], 0.5) if m else None for m in per_minute]
    p99 = [percentile([c.duration_ms for c in m], 0.99) if m else None for m in per_minute]
    top = _nice(max([v for v in p99 if v is not None], default=0.0))
    slot = (WIDTH - PAD_LEFT) / MINUTES

    def points(values: list[float | None]) -> str:
        return " ".join(f"{_x(i) + slot / 2:.1f},{_y(v, top):.1f}"
                        for i, v in enumerate(values) if v is not None)

    dots = tuple((_x(i) + slot / 2, _y(v, top), colour, f"{_label(i, since)}: {name} {v:.1f} ms")
                 for values, colour, name in ((p50, "#1f5fbf", "p50"), (p99, "#b3261e", "p99"))
                 for i, v in enumerate(values) if v is not None)

    everything = [c.duration_ms for m in per_minute for c in m]
    summary = (f"p50 {percentile(everything, 0.5):.1f} ms, p99 {percentile(everything, 0.99):.1f} ms "
               "over the hour" if everything else "no calls in the last hour")
    return Chart("Latency (ms), p50 and p99 per minute", summary, f"{top:g} ms",
                 lines=((points(p50), "#1f5fbf", "p50"), (points(p99), "#b3261e", "p99")), dots=dots,
                 legend=(("#1f5fbf", "p50"), ("#b3261e", "p99")))


def _errors(per_minute: list[list[CallRow]], since: datetime) -> Chart:
    kinds: Counter[str] = Counter(c.outcome for m in per_minute for c in m if is_error(c))
    expected = sum(1 for m in per_minute for c in m if c.expected and c.outcome != "ok")
    per = [Counter(c.outcome for c in m if is_error(c)) for m in per_minute]
    top = _nice(max((sum(p.values()) for p in per), default=0))
    slot = (WIDTH - PAD_LEFT) / MINUTES
    bars = []
    for i, found in enumerate(per):
        base = 0
        for kind in sorted(found):
            n = found[kind]
            bars.append(Bar(_x(i), _y(base + n, top), max(slot - 1, 1), _y(base, top) - _y(base + n, top),
                            ERROR_COLOURS.get(kind, OTHER_COLOUR), f"{_label(i, since)}: {n} {kind}"))
            base += n
    told = ", ".join(f"{n} {k}" for k, n in kinds.most_common()) or "no errors"
    summary = told + (f"; {expected} expected refusals from flows, not counted" if expected else "")
    legend = tuple((ERROR_COLOURS.get(k, OTHER_COLOUR), k) for k in sorted(kinds))
    return Chart("Errors by type per minute", summary, f"{top:g}", bars=tuple(bars), legend=legend)
