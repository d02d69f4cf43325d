"""What one invocation gave: a validated result, or a typed :class:`Failure` with its detail.

The one outcome type of the platform: the invoker returns it, the tester's flows read it, the
virtual terminal words it for a waiter, and the call log stores its :meth:`~InvocationResult.summary`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from dojo_epos.contract.errors import EposError
from dojo_epos.contract.wire import Transport, dump
from dojo_epos.platform.store import utc_now

__all__ = ["Failure", "InvocationResult"]


class Failure(StrEnum):
    """Why an invocation did not produce a valid result."""

    NOT_REGISTERED = "NotRegistered"
    """No registration of the scope offers the capability (or not on the transport asked for)."""
    NOT_CONNECTED = "NotConnected"
    """Registered over the WebSocket only, and no socket is connected."""
    TIMED_OUT = "TimedOut"
    """No answer within the call time-out."""
    TRANSPORT_ERROR = "TransportError"
    """The HTTP request or the socket failed (refused, reset, closed mid-call)."""
    REPLY_TOO_LARGE = "ReplyTooLarge"
    """The EPOS's reply is larger than the platform reads (``max_reply_bytes``)."""
    EPOS_ERROR = "EposErrorReply"
    """The EPOS answered with an EPOSError (in :attr:`InvocationResult.error`)."""
    SCHEMA_VIOLATION = "SchemaViolation"
    """The EPOS answered, but the answer does not match the result schema (see ``field``)."""
    INVALID_PARAMS = "InvalidParams"
    """The call could not be built from the params given (nothing was sent)."""


@dataclass
class InvocationResult:
    """The outcome of one call: ``ok`` with ``result``, or a ``failure`` with its detail."""

    capability: str
    ok: bool
    transport: str | None = None
    result: BaseModel | None = None
    failure: Failure | None = None
    error: EposError | None = None
    detail: str | None = None
    field: str | None = None
    duration_ms: float = 0.0
    request: Any = None
    reply: Any = None
    started_at: datetime = dataclasses.field(default_factory=utc_now)
    #: The caller expected this EPOSError (a flow checking a refusal): shown as expected, not
    #: counted as an error.
    expected: bool = False
    #: ``reply`` as JSON text with the EPOS's own part verbatim, when it was JSON: over the
    #: WebSocket the reply frame as sent, over REST ``{"status": .., "body": <the body as sent>}``.
    #: What the call log keeps (see :mod:`.calllog`); None when there is no such text.
    reply_text: str | None = None

    @property
    def outcome(self) -> str:
        return "ok" if self.ok else str(self.failure)

    def result_wire(self, transport: Transport = "rest") -> Any:
        """The result as JSON-ready data, in ``transport``'s casing (None on failure)."""
        return None if self.result is None else dump(self.result, transport)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready record of the call, as kept in the call log."""
        return {
            "capability": self.capability, "transport": self.transport, "outcome": self.outcome,
            "detail": self.detail, "field": self.field, "durationMs": round(self.duration_ms, 3),
            "startedAt": self.started_at.isoformat(), "request": self.request,
            "reply": self.reply, "expected": self.expected,
        }
