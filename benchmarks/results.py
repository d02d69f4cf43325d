"""``bench-results.json``: written whole by a full run, merged into by a partial one (``--only``).

Every figure and skip is named ``<benchmark>.<...>`` (``rest.search_orders.p99``), and the run's
``context`` keeps one entry per benchmark under its name, so a partial run replaces exactly what its
benchmarks own: their figures (in place, in the order of the file), their skips and their context;
every other figure stays as it was. The run is noted in ``partial_runs`` (which benchmarks, when, how
long, on what machine); the top-level ``started``, ``elapsed_seconds`` and ``machine`` stay those of
the last full run. A partial run is not merged into a file of another results version or of the
other mode (quick figures among full ones would read as real): :func:`check_mergeable` says so before
anything runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["MergeRefused", "check_mergeable", "load", "merge", "owner", "write_json"]


class MergeRefused(Exception):
    """The existing file cannot take this partial run's figures."""


def owner(name: str) -> str:
    """The benchmark a figure or skip belongs to: the part of its name before the first dot."""
    return name.split(".", 1)[0]


def load(path: Path) -> dict[str, Any] | None:
    """The results in ``path``; None when there is no such file. Raises MergeRefused for a file
    that is not results JSON (a partial run must not overwrite what it cannot read)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MergeRefused(f"{path} is not readable results JSON ({exc}); move it or use --out"
                           ) from None
    if not isinstance(data, dict) or not isinstance(data.get("figures"), list):
        raise MergeRefused(f"{path} has no figures list; move it or use --out")
    return data


def check_mergeable(existing: dict[str, Any] | None, version: int, mode: str, path: Path) -> None:
    if existing is None:
        return
    if existing.get("version") != version:
        raise MergeRefused(f"{path} is results version {existing.get('version')}, this run writes "
                           f"{version}: run every benchmark, or use --out")
    if existing.get("mode") != mode:
        raise MergeRefused(f"{path} holds a {existing.get('mode')} run's figures; a {mode} partial "
                           "run would mix them: use --out for it")


def merge(existing: dict[str, Any] | None, run: dict[str, Any],
          benchmarks: Sequence[str]) -> dict[str, Any]:
    """``existing`` with what ``benchmarks`` own replaced by ``run``'s, and the run noted."""
    chosen = set(benchmarks)
    note = {"benchmarks": list(benchmarks), "started": run["started"],
            "elapsed_seconds": run["elapsed_seconds"], "mode": run["mode"],
            "machine": run["machine"],
            "load_generator": run.get("context", {}).get("load_generator")}
    if existing is None:
        return {**run, "partial_runs": [note]}
    new_figures: dict[str, list[dict[str, Any]]] = {}
    for figure in run["figures"]:
        new_figures.setdefault(owner(figure["name"]), []).append(figure)
    figures: list[dict[str, Any]] = []
    placed: set[str] = set()
    for figure in existing["figures"]:
        bench = owner(figure["name"])
        if bench not in chosen:
            figures.append(figure)
        elif bench not in placed:  # the new figures take the place of the old ones
            figures.extend(new_figures.get(bench, []))
            placed.add(bench)
    for bench in benchmarks:  # benchmarks the file had no figure of
        if bench not in placed:
            figures.extend(new_figures.get(bench, []))
    skipped = {k: v for k, v in existing.get("skipped", {}).items() if owner(k) not in chosen}
    skipped.update(run.get("skipped", {}))
    context = {k: v for k, v in existing.get("context", {}).items() if k not in chosen}
    context.update({k: v for k, v in run.get("context", {}).items() if k in chosen})
    return {**existing, "figures": figures, "skipped": skipped, "context": context,
            "partial_runs": [*existing.get("partial_runs", []), note]}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write next to ``path`` first and rename, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
