"""The recording format: a scope's calls as JSON Lines, for ``dojo-epos replay`` (issue 14).

A recording is a UTF-8 text file, one JSON object per line. The first line is the header::

    {"format": "dojo-epos-recording", "version": 1, "recordedAt": "2026-12-01T22:00:00+00:00",
     "scope": "sandbox/3f2a…/my-house"}

Every further line is one call, in the order the platform made them::

    {"capability": "GetOrderById", "transport": "ws", "params": {"orderId": "o1", "headers": {}},
     "answer": {"result": {...}}, "outcome": "ok", "durationMs": 3.1,
     "startedAt": "2026-12-01T22:00:01+00:00", "request": {...}, "reply": {...}}

- ``params``: what the platform sent, as the params object (WS shape; REST calls in REST casing);
- ``answer``: what replay compares: ``{"result": ...}``, ``{"error": {"errorType", "debugMessage",
  "traceId"}}`` (an EPOSError) or ``{"failure": "<Failure>"}`` (no usable answer: time-out, broken
  socket, schema violation);
- ``request`` / ``reply``: the raw exchange as the call log shows it (for people; not compared).

A reader refuses another ``format`` or a ``version`` it does not know, naming the line. This module
is pure: it turns lines into data and back; files are the callers' business.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FORMAT", "VERSION", "RecordedCall", "Recording", "RecordingError", "header_line",
           "parse_recording"]

FORMAT = "dojo-epos-recording"
VERSION = 1
_REQUIRED = ("capability", "params", "answer")


class RecordingError(ValueError):
    """The text is not a recording this version can read; the message names the line."""


@dataclass(frozen=True)
class RecordedCall:
    """One recorded call (see the module notes for each field)."""

    capability: str
    params: dict[str, Any]
    answer: dict[str, Any]
    transport: str | None = None
    outcome: str = "ok"
    duration_ms: float = 0.0
    started_at: str | None = None
    request: Any = None
    reply: Any = None

    def to_line(self) -> str:
        return json.dumps({
            "capability": self.capability, "transport": self.transport, "params": self.params,
            "answer": self.answer, "outcome": self.outcome, "durationMs": round(self.duration_ms, 3),
            "startedAt": self.started_at, "request": self.request, "reply": self.reply,
        }, ensure_ascii=False, default=str)


@dataclass
class Recording:
    """A parsed recording: its header and its calls, in order."""

    header: dict[str, Any]
    calls: list[RecordedCall] = field(default_factory=list)


def header_line(scope: str, recorded_at: str) -> str:
    """The first line of a recording of ``scope`` (a label; never a key)."""
    return json.dumps({"format": FORMAT, "version": VERSION, "recordedAt": recorded_at,
                       "scope": scope})


def _object(text: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise RecordingError(f"line {number}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise RecordingError(f"line {number}: a JSON object is expected")
    return value


def parse_recording(lines: Iterable[str]) -> Recording:
    """The recording in ``lines`` (blank lines are skipped); RecordingError when it is not one."""
    recording: Recording | None = None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        data = _object(text, number)
        if recording is None:
            if data.get("format") != FORMAT:
                raise RecordingError(f"line {number}: not a {FORMAT} file (no header)")
            if data.get("version") != VERSION:
                raise RecordingError(f"line {number}: version {data.get('version')!r} is not "
                                     f"supported (this dojo-epos reads version {VERSION})")
            recording = Recording(header=data)
            continue
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise RecordingError(f"line {number}: missing {', '.join(missing)}")
        if not isinstance(data["params"], dict) or not isinstance(data["answer"], dict):
            raise RecordingError(f"line {number}: params and answer must be JSON objects")
        recording.calls.append(RecordedCall(
            capability=str(data["capability"]), params=data["params"], answer=data["answer"],
            transport=data.get("transport"), outcome=str(data.get("outcome", "ok")),
            duration_ms=float(data.get("durationMs") or 0.0), started_at=data.get("startedAt"),
            request=data.get("request"), reply=data.get("reply")))
    if recording is None:
        raise RecordingError(f"empty file: a {FORMAT} file starts with its header line")
    return recording
