"""One error type for the whole contract, and how it looks on each transport.

Dojo's contract has a single error object, ``EPOSError {errorType, debugMessage?, traceId?}``. On REST
it is the body of every non-2xx answer; on the WebSocket it *is* the JSON-RPC ``error`` member (not the
JSON-RPC 2.0 ``{code, message}`` object: spec defect #23). :class:`EposError` is that object as a Python
exception, so a handler raises it and either transport renders it.
"""

from __future__ import annotations

import itertools
import uuid
from enum import StrEnum
from typing import Any

__all__ = [
    "HTTP_STATUS",
    "describe_validation_error",
    "invalid_request_from",
    "EposError",
    "ErrorType",
    "error_type_for_status",
    "new_trace_id",
]


class ErrorType(StrEnum):
    """The four error types the contract knows."""

    NOT_FOUND = "NotFound"
    INVALID_REQUEST = "InvalidRequest"
    CONFLICT = "Conflict"
    UNEXPECTED_ERROR = "UnexpectedError"


#: REST status for each error type (our mapping; the REST spec only names 409 for a lock conflict).
HTTP_STATUS: dict[ErrorType, int] = {
    ErrorType.NOT_FOUND: 404,
    ErrorType.INVALID_REQUEST: 400,
    ErrorType.CONFLICT: 409,
    ErrorType.UNEXPECTED_ERROR: 500,
}


def error_type_for_status(status: int) -> ErrorType:
    """The error type a REST status stands for, when a body does not say (the inverse map).

    Any other 4xx is the caller's fault (InvalidRequest); anything else is UnexpectedError.
    """
    for error_type, code in HTTP_STATUS.items():
        if code == status:
            return error_type
    if 400 <= status < 500:
        return ErrorType.INVALID_REQUEST
    return ErrorType.UNEXPECTED_ERROR


# A random prefix per process and a counter: unique across processes with overwhelming
# probability, and far cheaper than a UUID4 per call (os.urandom showed in the WS profile).
# Trace ids name log lines; they are not secrets, so they need not be unpredictable.
_TRACE_PREFIX = uuid.uuid4().hex[:16]
_trace_counter = itertools.count(1)


def new_trace_id() -> str:
    """A fresh trace id, the value we put in ``traceId`` so a log line can be found from a reply."""
    return f"{_TRACE_PREFIX}{next(_trace_counter):016x}"


class EposError(Exception):
    """A contract error: raise it from a handler, get an EPOSError on the wire.

    ``debug_message`` goes to the caller, so it must never carry secrets or internal detail; for an
    unexpected failure use :meth:`unexpected`, which keeps the detail out of the message.
    """

    def __init__(
        self,
        error_type: ErrorType | str,
        debug_message: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.error_type = ErrorType(error_type)
        self.debug_message = debug_message
        self.trace_id = trace_id
        super().__init__(f"{self.error_type.value}: {debug_message or ''}".rstrip(": "))

    # Convenience constructors, one per type: `raise EposError.not_found("no order ord_1")`.
    @classmethod
    def not_found(cls, message: str | None = None) -> EposError:
        return cls(ErrorType.NOT_FOUND, message)

    @classmethod
    def invalid_request(cls, message: str | None = None) -> EposError:
        return cls(ErrorType.INVALID_REQUEST, message)

    @classmethod
    def conflict(cls, message: str | None = None) -> EposError:
        return cls(ErrorType.CONFLICT, message)

    @classmethod
    def unexpected(cls, trace_id: str | None = None) -> EposError:
        """An internal failure; the message names only the trace id, the detail stays in the log."""
        trace_id = trace_id or new_trace_id()
        return cls(ErrorType.UNEXPECTED_ERROR, f"internal error (trace {trace_id})", trace_id)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.error_type]

    def to_wire(self) -> dict[str, str]:
        """The EPOSError object, as both transports send it."""
        body = {"errorType": self.error_type.value}
        if self.debug_message is not None:
            body["debugMessage"] = self.debug_message
        if self.trace_id is not None:
            body["traceId"] = self.trace_id
        return body

    @classmethod
    def from_wire(cls, data: Any, *, status: int | None = None) -> EposError:
        """Read an EPOSError object received from a peer; tolerant, since it came from outside.

        A body that is not a valid EPOSError becomes UnexpectedError (or the type the REST status
        implies), with a message saying what arrived instead.
        """
        if isinstance(data, dict):
            raw_type = data.get("errorType")
            message = data.get("debugMessage")
            trace = data.get("traceId")
            if isinstance(raw_type, str) and raw_type in ErrorType._value2member_map_:
                return cls(
                    ErrorType(raw_type),
                    message if isinstance(message, str) else None,
                    trace if isinstance(trace, str) else None,
                )
        fallback = error_type_for_status(status) if status is not None else ErrorType.UNEXPECTED_ERROR
        return cls(fallback, f"peer sent an error that is not an EPOSError: {str(data)[:200]}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EposError):
            return NotImplemented
        return self.to_wire() == other.to_wire()

    def __hash__(self) -> int:
        return hash((self.error_type, self.debug_message, self.trace_id))

    def __repr__(self) -> str:
        return f"EposError({self.error_type.value!r}, {self.debug_message!r}, {self.trace_id!r})"


def describe_validation_error(exc: Any, *, prefix: str = "") -> str:
    """A one-line message from a pydantic ``ValidationError`` that names each offending field.

    The field path uses wire names (``paidAmount.value``), so the caller recognises it.
    """
    parts = []
    for err in exc.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        loc = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or "body")
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = len(exc.errors()) - 5
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def invalid_request_from(exc: Any, *, prefix: str = "") -> EposError:
    """InvalidRequest for a pydantic ``ValidationError``, naming the fields."""
    return EposError(ErrorType.INVALID_REQUEST, describe_validation_error(exc, prefix=prefix))
