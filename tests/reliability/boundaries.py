"""Boundary values for the fuzz suite: the edges of what storage can hold, and one step past them.

Every value here is valid JSON. Some are inside the contract's bounds (the 64-bit limits, years 1 and
9999 in UTC) and must be served or refused on their merits; the others (one past a 64-bit limit, a
date-time that leaves the representable range once converted to UTC, NUL, a lone surrogate, a string
longer than any stored field) must be refused as InvalidRequest naming the field, changing nothing.

:func:`mutations` walks a valid request and yields one copy per (leaf, boundary value), so a test can
put every boundary in every field; :func:`boundary_strings` and friends are the same values as
hypothesis strategies for the property-based fuzzers.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
INT32_MAX = 2**31 - 1

#: Longer than any bounded string field of the contract (see ``contract.models.scalars``).
VERY_LONG = "x" * 20_000


@dataclass(frozen=True)
class Boundary:
    """One boundary value: ``refused`` True when the contract must answer InvalidRequest for it, None
    when either answer is right (served, or refused because a field has a smaller bound)."""

    label: str
    value: Any
    refused: bool | None


STRINGS = (
    Boundary("NUL", "\x00", True),
    Boundary("NUL inside", "ord\x00x", True),
    Boundary("lone high surrogate", "\ud800", True),
    Boundary("lone low surrogate", "a\udfffb", True),
    Boundary("very long string", VERY_LONG, None),
    Boundary("emoji (astral, not a surrogate)", "\U0001f355", False),
)
INTEGERS = (
    Boundary("int64 max", INT64_MAX, False),
    Boundary("int64 max + 1", INT64_MAX + 1, True),
    Boundary("int64 min", INT64_MIN, False),
    Boundary("int64 min - 1", INT64_MIN - 1, True),
    Boundary("int32 max + 1", INT32_MAX + 1, False),
)
DATETIMES = (
    Boundary("year 9999, UTC", "9999-12-31T23:59:59Z", False),
    Boundary("year 9999, +05:00", "9999-12-31T23:59:59+05:00", False),
    Boundary("year 9999, -05:00 (past 9999 in UTC)", "9999-12-31T23:59:59-05:00", True),
    Boundary("year 1, UTC", "0001-01-01T00:00:00Z", False),
    Boundary("year 1, -05:00", "0001-01-01T00:00:00-05:00", False),
    Boundary("year 1, +01:00 (before year 1 in UTC)", "0001-01-01T00:00:00+01:00", True),
)


def _is_datetime(value: str) -> bool:
    if "T" not in value:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def boundaries_for(value: Any) -> tuple[Boundary, ...]:
    """The boundary values for a leaf of this JSON type (none for booleans, enums' strings stay)."""
    if isinstance(value, bool) or value is None:
        return ()
    if isinstance(value, int):
        return INTEGERS
    if isinstance(value, str):
        return DATETIMES + STRINGS if _is_datetime(value) else STRINGS
    return ()


@dataclass(frozen=True)
class Mutation:
    """A request with one leaf replaced: where (a JSON path), by what, and the new request."""

    path: tuple[str | int, ...]
    boundary: Boundary
    params: dict[str, Any]

    @property
    def field(self) -> str:
        """The wire name of the field changed (the last key of the path that is a name)."""
        return next(str(p) for p in reversed(self.path) if isinstance(p, str))


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _replace(params: dict[str, Any], path: tuple[str | int, ...], new: Any) -> dict[str, Any]:
    copied = copy.deepcopy(params)
    target: Any = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copied


def mutations(params: dict[str, Any], *, skip: frozenset[str] = frozenset()) -> Iterator[Mutation]:
    """One copy of ``params`` per leaf and per boundary value for its type (keys in ``skip`` kept)."""
    for path, value in _leaves(params):
        if any(isinstance(p, str) and p in skip for p in path):
            continue
        for boundary in boundaries_for(value):
            yield Mutation(path, boundary, _replace(params, path, boundary.value))


def boundary_strings() -> st.SearchStrategy[str]:
    """Hostile strings (NUL, lone surrogates, very long) mixed with ordinary text."""
    return st.sampled_from([b.value for b in STRINGS]) | st.text(max_size=20)


def boundary_integers() -> st.SearchStrategy[int]:
    """The 64-bit limits and one past them, the 32-bit limit, and ordinary integers."""
    return st.sampled_from([b.value for b in INTEGERS]) | st.integers(-1000, 1000)


def boundary_datetimes() -> st.SearchStrategy[str]:
    """Years 1 and 9999 with offsets either side of UTC, as ISO 8601 strings."""
    return st.sampled_from([b.value for b in DATETIMES])
