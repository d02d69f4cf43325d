"""Recording a scope's calls to a file (the format: :mod:`dojo_epos.contract.recording`).

Two ways in. Live: ``platform.invoker.recorder.start(scope, path)`` begins a recording; from then
on every call the invoker makes for that scope is appended to ``path`` as it completes, until
``stop(scope)``. Other scopes are never written to it. Params, answers and raw exchanges are
recorded in full (the call log keeps a bounded copy); they hold no API key and no registration
password, which never enter a call.
After the fact: :func:`export_calls` turns a scope's stored call log (what ``dojo-epos record``
reads from the platform database) into recorded calls; entries the log kept only in part (over
its size bound) cannot be replayed and are left out, and counted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from dojo_epos.contract.capabilities import UnknownCapability, lookup
from dojo_epos.contract.recording import RecordedCall, header_line
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.outcome import Failure, InvocationResult
from dojo_epos.platform.store import CallRow, utc_now

__all__ = ["Recorder", "export_calls", "recorded_call"]

log = logging.getLogger("dojo_epos.platform.recording")


def recorded_call(outcome: InvocationResult, params: dict[str, Any]) -> RecordedCall:
    """The recording line of one call."""
    if outcome.ok:
        answer: dict[str, Any] = {
            "result": outcome.result_wire("rest" if outcome.transport == "rest" else "ws")}
    elif outcome.failure is Failure.EPOS_ERROR and outcome.error is not None:
        answer = {"error": outcome.error.to_wire()}
    else:
        answer = {"failure": str(outcome.failure)}
    return RecordedCall(
        capability=outcome.capability, params=params, answer=answer,
        transport=outcome.transport, outcome=outcome.outcome, duration_ms=outcome.duration_ms,
        started_at=outcome.started_at.isoformat(), request=outcome.request, reply=outcome.reply)


class Recorder:
    """The recordings in progress, at most one file per scope."""

    def __init__(self) -> None:
        self._files: dict[Scope, tuple[Path, IO[str]]] = {}

    def start(self, scope: Scope, path: Path) -> None:
        """Record ``scope``'s calls to ``path`` (created or truncated), replacing any recording."""
        self.stop(scope)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("w", encoding="utf-8")
        label = f"{scope.environment.value}/{scope.key_fingerprint}/{scope.software_house_id}"
        handle.write(header_line(label, utc_now().isoformat()) + "\n")
        handle.flush()
        self._files[scope] = (path, handle)
        log.info("%s: recording calls to %s", scope, path)

    def stop(self, scope: Scope) -> Path | None:
        """End ``scope``'s recording; the file it went to (None when there was none)."""
        entry = self._files.pop(scope, None)
        if entry is None:
            return None
        path, handle = entry
        handle.close()
        return path

    def recording(self, scope: Scope) -> Path | None:
        entry = self._files.get(scope)
        return entry[0] if entry else None

    def record(self, scope: Scope, outcome: InvocationResult, params: dict[str, Any]) -> None:
        """Append one call when ``scope`` is being recorded (one line, flushed at once)."""
        entry = self._files.get(scope)
        if entry is None:
            return
        try:
            entry[1].write(recorded_call(outcome, params).to_line() + "\n")
            entry[1].flush()
        except (OSError, ValueError) as exc:  # a full disk must not fail the call itself
            log.warning("%s: recording stopped: %s", scope, exc)
            self.stop(scope)

    def close(self) -> None:
        for scope in list(self._files):
            self.stop(scope)


def _truncated(value: Any) -> bool:
    return isinstance(value, dict) and value.get("truncated") is True


def _rest_params(capability_name: str, request: dict[str, Any]) -> dict[str, Any] | None:
    """The params of a logged REST call: its path parameters (from the URL) and its body."""
    capability = lookup(capability_name)
    template = capability.http[1]
    pattern = re.sub(r"\\{(\w+)\\}", lambda g: f"(?P<{g.group(1)}>[^/]+)", re.escape(template))
    match = re.search(pattern + "$", urlsplit(str(request.get("url", ""))).path)
    if match is None:
        return None
    params: dict[str, Any] = dict(request.get("body") or {})
    for name, wire_name in capability.path_fields.items():
        params[wire_name] = unquote(match.group(name))
    params["headers"] = {}
    return params


def export_calls(rows: Iterable[CallRow]) -> tuple[list[RecordedCall], int]:
    """Recorded calls from stored call-log rows (oldest first), and how many were left out."""
    calls: list[RecordedCall] = []
    left_out = 0
    for row in rows:
        request, reply = row.request, row.reply
        if _truncated(request) or _truncated(reply) or not isinstance(request, dict):
            left_out += 1
            continue
        try:
            if row.transport == "ws":
                params = request.get("params")
            else:
                params = _rest_params(row.capability, request)
        except UnknownCapability:
            params = None
        if not isinstance(params, dict):
            left_out += 1
            continue
        body = reply.get("body") if isinstance(reply, dict) and row.transport == "rest" else reply
        if row.outcome == "ok":
            result = body if row.transport == "rest" else (reply or {}).get("result")
            answer: dict[str, Any] = {"result": result}
        elif row.outcome == str(Failure.EPOS_ERROR) and isinstance(body, dict):
            answer = {"error": body.get("error", body) if row.transport == "ws" else body}
        else:
            answer = {"failure": row.outcome}
        calls.append(RecordedCall(
            capability=row.capability, params=params, answer=answer, transport=row.transport,
            outcome=row.outcome, duration_ms=row.duration_ms,
            started_at=row.started_at.isoformat(), request=request, reply=reply))
    return calls, left_out
