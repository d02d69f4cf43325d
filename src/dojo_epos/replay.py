"""Replay a recording against an EPOS and diff its answers (``dojo-epos replay``; issue 14).

Each recorded call's params are sent again, in order, to a target: an EPOS's REST API
(:class:`UrlTarget`: base URL plus basic-auth credentials) or a handler in this process
(:class:`HandlerTarget`, from a ``module:attribute`` import string). The answer is compared with the
recorded one after both went through the same :class:`Rules`:

- keys that are volatile by nature are masked wherever they appear: ``traceId`` and
  ``debugMessage`` (an EPOSError is compared by its ``errorType``) by default, plus any given;
- string values that are ISO-8601 timestamps are masked (``--keep-timestamps`` turns that off);
- paths given with ``--ignore`` (dotted, ``*`` for any key or index: ``result.id``,
  ``result.items.*.id``) are masked, for ids an EPOS makes afresh on every run.

A call recorded without a usable answer (a time-out, a broken socket: ``{"failure": ...}``) says
nothing about the EPOS and is skipped, and counted as skipped. :func:`exit_code`: 0 when every
replayed answer matches, 1 when any differs; the CLI exits 2 for a file it cannot read.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from dojo_epos.contract.capabilities import UnknownCapability, lookup
from dojo_epos.contract.errors import EposError
from dojo_epos.contract.recording import RecordedCall, Recording
from dojo_epos.contract.restmap import rest_request_for
from dojo_epos.epos.handler import EposHandler, call_handler_json

__all__ = ["DEFAULT_VOLATILE_KEYS", "CaseResult", "HandlerTarget", "Rules", "Target", "UrlTarget",
           "diff", "exit_code", "junit_bytes", "replay"]

DEFAULT_VOLATILE_KEYS = frozenset({"traceId", "debugMessage"})
MASK = "<volatile>"
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class Rules:
    """What is not compared: volatile keys anywhere, ignored paths, timestamps."""

    volatile_keys: frozenset[str] = DEFAULT_VOLATILE_KEYS
    ignore_paths: tuple[str, ...] = ()
    mask_timestamps: bool = True

    def _ignored(self, path: tuple[str, ...]) -> bool:
        for pattern in self.ignore_paths:
            parts = pattern.split(".")
            if len(parts) == len(path) and all(p in ("*", q) for p, q in zip(parts, path, strict=True)):
                return True
        return False

    def normalise(self, value: Any, path: tuple[str, ...] = ()) -> Any:
        """``value`` with everything these rules leave out replaced by a mask."""
        if path and (path[-1] in self.volatile_keys or self._ignored(path)):
            return MASK
        if isinstance(value, dict):
            return {k: self.normalise(v, (*path, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [self.normalise(v, (*path, str(n))) for n, v in enumerate(value)]
        if self.mask_timestamps and isinstance(value, str) and _TIMESTAMP.match(value):
            return MASK
        return value


def diff(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Human-readable differences between two JSON values (empty when equal)."""
    where = path or "(answer)"
    if isinstance(expected, dict) and isinstance(actual, dict):
        found: list[str] = []
        for key in sorted(set(expected) | set(actual), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in actual:
                found.append(f"{sub}: missing (recorded {_short(expected[key])})")
            elif key not in expected:
                found.append(f"{sub}: unexpected {_short(actual[key])}")
            else:
                found.extend(diff(expected[key], actual[key], sub))
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(actual)} items, recorded {len(expected)}"]
        found = []
        for n, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found.extend(diff(e, a, f"{path}.{n}" if path else str(n)))
        return found
    if expected != actual:
        return [f"{where}: {_short(actual)}, recorded {_short(expected)}"]
    return []


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


class Target(Protocol):
    """Where the recorded requests go; returns the answer in the recording's shape."""

    name: str

    async def answer(self, call: RecordedCall) -> dict[str, Any]: ...


class HandlerTarget:
    """An :class:`EposHandler` in this process, called as a transport would call it."""

    def __init__(self, handler: EposHandler, name: str = "handler") -> None:
        self.handler, self.name = handler, name

    async def answer(self, call: RecordedCall) -> dict[str, Any]:
        capability = lookup(call.capability)
        try:
            text = await call_handler_json(self.handler, capability, call.params,
                                           transport="rest" if call.transport == "rest" else "ws")
        except EposError as exc:
            return {"error": exc.to_wire()}
        return {"result": json.loads(text)}


class UrlTarget:
    """An EPOS's REST API at ``base_url`` (the registered URL), with basic auth."""

    def __init__(self, base_url: str, username: str, password: str, *, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.name = base_url
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(auth=(username, password), timeout=timeout,
                                       transport=transport)

    async def answer(self, call: RecordedCall) -> dict[str, Any]:
        request = rest_request_for(lookup(call.capability), call.params)
        response = await self._http.request(request.method, self.base_url + request.path,
                                            json=request.body, headers=request.headers)
        body: Any = response.json() if response.content.strip() else {}
        if response.is_success:
            return {"result": body}
        return {"error": EposError.from_wire(body, status=response.status_code).to_wire()}

    async def aclose(self) -> None:
        await self._http.aclose()


@dataclass
class CaseResult:
    """One replayed call: matched, differed (``differences``) or skipped (``skipped`` says why)."""

    index: int
    capability: str
    differences: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.index:04d} {self.capability}"

    @property
    def matched(self) -> bool:
        return self.skipped is None and not self.differences


async def replay(recording: Recording, target: Target, rules: Rules | None = None) -> list[CaseResult]:
    """Send every recorded call to ``target`` in order; one result per call."""
    rules = rules or Rules()
    results: list[CaseResult] = []
    for index, call in enumerate(recording.calls, start=1):
        case = CaseResult(index, call.capability)
        results.append(case)
        if "failure" in call.answer:
            case.skipped = f"recorded without an answer ({call.answer['failure']})"
            continue
        try:
            lookup(call.capability)
        except UnknownCapability:
            case.skipped = f"{call.capability!r} is not a capability of the contract"
            continue
        started = time.perf_counter()
        try:
            actual = await target.answer(call)
        except EposError as exc:  # the params cannot be sent (e.g. no path parameter)
            actual = {"error": exc.to_wire()}
        except httpx.HTTPError as exc:
            actual = {"failure": f"{type(exc).__name__}: {exc}"}
        case.seconds = time.perf_counter() - started
        case.differences = diff(rules.normalise(call.answer), rules.normalise(actual))
    return results


def exit_code(results: Sequence[CaseResult]) -> int:
    """0 when at least one answer was compared and none differs from its recording, else 1.

    A replay that compared nothing (an empty recording, or every call recorded without an answer
    and skipped) proves nothing about the EPOS, so it is not a pass.
    """
    if any(r.differences for r in results):
        return 1
    return 0 if any(r.matched for r in results) else 1


def junit_bytes(results: Sequence[CaseResult], suite: str = "dojo-epos replay") -> bytes:
    """A JUnit XML report: one test case per recorded call."""
    failures = sum(1 for r in results if r.differences)
    skipped = sum(1 for r in results if r.skipped)
    root = ET.Element("testsuite", name=suite, tests=str(len(results)), failures=str(failures),
                      skipped=str(skipped), time=f"{sum(r.seconds for r in results):.3f}")
    for r in results:
        case = ET.SubElement(root, "testcase", classname=suite, name=r.name, time=f"{r.seconds:.3f}")
        if r.skipped:
            ET.SubElement(case, "skipped", message=r.skipped)
        elif r.differences:
            failure = ET.SubElement(case, "failure", message=r.differences[0])
            failure.text = "\n".join(r.differences)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data
