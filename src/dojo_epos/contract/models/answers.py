"""The error answer and the empty result."""

from __future__ import annotations

from dojo_epos.contract.models.enums import EPOSErrorType
from dojo_epos.contract.models.scalars import Text
from dojo_epos.contract.wire import WireModel

__all__ = [
    "EPOSError",
    "EmptyResult",
]


class EPOSError(WireModel):
    """An error answer: REST non-2xx body, and the JSON-RPC ``error`` member (spec defect #23)."""

    error_type: EPOSErrorType
    debug_message: Text | None = None
    trace_id: Text | None = None


class EmptyResult(WireModel, extra="forbid"):
    """The empty ``{}`` result of ExtendOrderLock, deletes and HandleEvent."""
