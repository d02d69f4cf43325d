"""A sans-I/O JSON-RPC 2.0 peer for the EPOS Data API's WebSocket.

Text in, typed events out; requests, results and errors built as text to send. It never touches a
socket and never raises on bad input, so the EPOS connector and the platform gateway share it, and it
is tested with plain strings (like the ``websockets`` protocol objects).

The connection is symmetric in a way that matters: the EPOS opens the socket but *answers* requests;
the platform accepts the socket but *sends* them. One :class:`Peer` does both.

Dojo's envelope differs from plain JSON-RPC 2.0 in ways the spec documents (domain notes §7):

* replies carry the request's ``method`` (spec defect #21): we always send it, and accept replies
  without it;
* an error reply's ``error`` is an EPOSError, not ``{code, message}`` (spec defect #23), and has no
  ``result`` (spec defect #22);
* ``id`` is typed as a string (spec defect #24): we send UUID strings and echo any string or integer
  id unchanged; a frame whose id cannot be recovered is reported, never answered (there is no null id
  in Dojo's schema);
* there are no notifications and no batches.

Usage::

    peer = Peer()
    peer.receive_text(frame)
    for event in peer.events_received():
        if isinstance(event, Request):
            peer.send_result(event.id, event.method, {...})
    for text in peer.data_to_send():
        await ws.send(text)
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dojo_epos.contract.errors import EposError, ErrorType, new_trace_id

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "JSONRPC_VERSION",
    "ErrorReply",
    "Event",
    "InvalidFrame",
    "Peer",
    "Request",
    "Result",
    "encode",
    "loads_strict",
    "new_request_id",
    "reply_event",
    "valid_id",
]

JSONRPC_VERSION = "2.0"
#: Frames longer than this (in UTF-8 bytes) are refused unread. Dojo documents no limit; 1 MiB holds
#: an order with thousands of lines.
DEFAULT_MAX_FRAME_BYTES = 1024 * 1024

Id = str | int


@dataclass(frozen=True, slots=True)
class Request:
    """A request from the other side; answer it with :meth:`Peer.send_result` or ``send_error``.

    ``params`` is ``None`` when the frame had none (only ListAreas allows that: spec defect #26).
    """

    id: Id
    method: str
    params: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Result:
    """A successful reply to a request this peer sent; ``method`` is the one we sent.

    ``frame`` is the reply's frame as the other side sent it (its JSON text, verbatim), when known:
    where the reply came from, not part of its value (not compared, not shown).
    """

    id: Id
    method: str
    result: Any
    frame: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An error reply to a request this peer sent, its EPOSError already parsed (``frame`` as for
    :class:`Result`)."""

    id: Id
    method: str
    error: EposError
    frame: str | None = field(default=None, compare=False, repr=False)


def reply_event(message: dict[str, Any], msg_id: Id, method: str,
                frame: str | None = None) -> Result | ErrorReply:
    """The event of a reply ``message`` (an object with ``result`` or ``error``) to ``method``.

    A reply that carries both is an error (spec defect #22), whatever its result says.
    """
    if "result" in message and "error" in message:
        return ErrorReply(msg_id, method, EposError(
            ErrorType.UNEXPECTED_ERROR, "reply carries both result and error (spec defect #22)"),
            frame)
    if "error" in message:
        return ErrorReply(msg_id, method, EposError.from_wire(message["error"]), frame)
    return Result(msg_id, method, message["result"], frame)


@dataclass(frozen=True, slots=True)
class InvalidFrame:
    """A frame that could not be used, and why.

    ``error`` is set when the frame was a request whose ``id`` could be recovered: the peer should
    answer it with that error (:meth:`Peer.reply_invalid` does). Otherwise nothing can be answered,
    and the frame is only to be logged and counted (garbage, a reply to an unknown or expired id).
    """

    reason: str
    id: Id | None = None
    method: str | None = None
    error: EposError | None = None
    excerpt: str = ""


Event = Request | Result | ErrorReply | InvalidFrame


# Built once: ``json.dumps`` with any keyword builds a new encoder per call (every request the
# platform sends goes through here).
_COMPACT_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode(message: dict[str, Any]) -> str:
    """Compact JSON text, as sent on the wire (always encodable as UTF-8)."""
    text = _COMPACT_ENCODER.encode(message)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (it can only arrive as a "\ud800" escape in a frame we echo, e.g.
            # an id) cannot be sent as UTF-8: escape every non-ASCII character instead.
            text = json.dumps(message, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Built once: ``json.loads`` with any keyword builds a new decoder (and scanner) per call, which
# was a tenth of the connector's own time per request (WebSocket benchmark profile).
_STRICT_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads_strict(text: str) -> Any:
    """``json.loads`` that refuses NaN and Infinity (not JSON, though Python's decoder takes them).

    Raises ValueError (or RecursionError for absurd nesting), like ``json.loads``. Every place
    that reads a peer's JSON (this codec, the REST app, the test client) uses it.
    """
    if text.startswith("\ufeff"):  # what json.loads says about a byte order mark
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _STRICT_DECODER.decode(text)


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (the log line names what the peer sent)."""
    names = {bool: "a boolean", float: "a number with a fraction", list: "an array", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def valid_id(value: Any) -> bool:
    """Whether ``value`` is an id a request can be answered under: any string (the document types
    ``id`` as a string, with no length limit; the frame limit bounds it) or any integer."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


_ID_PREFIX = str(uuid.uuid4())[:24]
_id_counter = itertools.count()


def _new_id_prefix() -> None:
    global _ID_PREFIX, _id_counter
    _ID_PREFIX, _id_counter = str(uuid.uuid4())[:24], itertools.count()


os.register_at_fork(after_in_child=_new_id_prefix)  # forked workers must not repeat the parent's


def new_request_id() -> str:
    """A request id in the shape of a random (version 4) UUID, cheaper: this process's random
    UUID's first 20 hex digits, then a count in the last 12 (which a version 4 UUID leaves
    random). Unique within the process, and across processes as random UUIDs are;
    ``uuid.uuid4()`` per request was 3% of the platform's time with 32 calls in flight
    (WebSocket benchmark profile)."""
    return f"{_ID_PREFIX}{next(_id_counter):012x}"


@dataclass
class Peer:
    """One end of a JSON-RPC conversation: parses incoming text and builds outgoing text."""

    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    new_id: Callable[[], str] = new_request_id
    _pending: dict[Id, str] = field(default_factory=dict, init=False, repr=False)
    _events: list[Event] = field(default_factory=list, init=False, repr=False)
    _outgoing: list[str] = field(default_factory=list, init=False, repr=False)

    # -- incoming ---------------------------------------------------------------------------

    def receive_text(self, data: str | bytes) -> None:
        """Feed one frame (text, or bytes that should be UTF-8 JSON). Never raises."""
        if isinstance(data, bytes | bytearray | memoryview):
            raw = bytes(data)
            if len(raw) > self.max_frame_bytes:
                self._invalid(f"frame of {len(raw)} bytes exceeds {self.max_frame_bytes}")
                return
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self._invalid("binary frame is not UTF-8 text")
                return
        else:
            text = data
            # Cheap bound first: a str of n code points is at least n UTF-8 bytes.
            if len(text) > self.max_frame_bytes or (
                len(text) * 4 > self.max_frame_bytes
                and len(text.encode("utf-8", "surrogatepass")) > self.max_frame_bytes
            ):
                self._invalid(f"frame exceeds {self.max_frame_bytes} bytes")
                return
        try:
            message = loads_strict(text)
        except (ValueError, RecursionError) as exc:
            self._invalid(f"not JSON: {type(exc).__name__}", excerpt=text)
            return
        if not isinstance(message, dict):
            self._invalid(f"a frame must be a JSON object, not {type(message).__name__}", excerpt=text)
            return
        self._dispatch(message, text)

    def events_received(self) -> list[Event]:
        """Events parsed since the last call, in order."""
        events, self._events = self._events, []
        return events

    def _invalid(
        self,
        reason: str,
        *,
        id: Id | None = None,
        method: str | None = None,
        replyable: bool = False,
        excerpt: str = "",
    ) -> None:
        # A trace id like every other error reply, so the log line of a refused frame can be found.
        error = EposError(ErrorType.INVALID_REQUEST, reason, new_trace_id()) if replyable else None
        self._events.append(InvalidFrame(reason, id, method, error, excerpt[:200]))

    def _dispatch(self, message: dict[str, Any], text: str) -> None:
        raw_id = message.get("id")
        has_id = valid_id(raw_id)
        msg_id: Id | None = raw_id if has_id else None
        method = message.get("method")
        method = method if isinstance(method, str) else None
        is_reply = "result" in message or "error" in message

        if "id" not in message or raw_id is None:
            self._invalid("frame has no id (notifications are not part of this contract)",
                          method=method, excerpt=text)
            return
        if not has_id:
            self._invalid(f"id must be a string or integer, not {_json_type(raw_id)}",
                          method=method, excerpt=text)
            return
        if not isinstance(message.get("jsonrpc"), str):
            self._invalid("jsonrpc must be a string (\"2.0\")", id=msg_id, method=method,
                          replyable=not is_reply, excerpt=text)
            return
        if is_reply:
            self._dispatch_reply(message, msg_id, text)  # type: ignore[arg-type]  # checked above
            return
        if method is None:
            self._invalid("request has no method (or it is not a string)", id=msg_id,
                          replyable=True, excerpt=text)
            return
        params = message.get("params")
        if params is not None and not isinstance(params, dict):
            self._invalid("params must be an object", id=msg_id, method=method, replyable=True,
                          excerpt=text)
            return
        assert msg_id is not None
        self._events.append(Request(msg_id, method, params))

    def _dispatch_reply(self, message: dict[str, Any], msg_id: Id, text: str) -> None:
        sent_method = self._pending.get(msg_id)
        if sent_method is None:
            self._invalid(f"reply to an unknown or expired request id {msg_id!r}", excerpt=text)
            return
        del self._pending[msg_id]
        self._events.append(reply_event(message, msg_id, sent_method, text))

    # -- outgoing ---------------------------------------------------------------------------

    def send_request(self, method: str, params: dict[str, Any] | None = None) -> str:
        """Queue a request; returns its id, which the matching reply event will carry."""
        request_id = self.new_id()
        message: dict[str, Any] = {"jsonrpc": JSONRPC_VERSION, "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._outgoing.append(encode(message))
        self._pending[request_id] = method
        return request_id

    def forget(self, request_id: Id) -> bool:
        """Stop waiting for a reply (time-out); a reply arriving later is an InvalidFrame."""
        return self._pending.pop(request_id, None) is not None

    @property
    def pending(self) -> int:
        """How many requests this peer sent that have not been answered or forgotten."""
        return len(self._pending)

    def send_result(self, request_id: Id, method: str, result: Any) -> None:
        """Queue a successful reply, echoing the request's id and method (spec defect #21)."""
        self._outgoing.append(encode(
            {"jsonrpc": JSONRPC_VERSION, "id": request_id, "method": method, "result": result}))

    def send_result_json(self, request_id: Id, method: str, result_json: str) -> None:
        """Like :meth:`send_result`, with the result already encoded as JSON text.

        The envelope is written around it rather than re-encoding the result (the reply is the
        hot path). ``result_json`` must be one valid JSON value; callers get it from pydantic.
        """
        self._outgoing.append(
            # ensure_ascii: an echoed id or method may hold a lone surrogate ("\ud800" escape),
            # which cannot be sent as UTF-8; escaped, it goes back exactly as it came.
            f'{{"jsonrpc":"{JSONRPC_VERSION}","id":{json.dumps(request_id)},'
            f'"method":{json.dumps(method)},"result":{result_json}}}')

    def send_error(self, request_id: Id, method: str | None, error: EposError) -> None:
        """Queue an error reply: ``error`` is the EPOSError object and there is no ``result``."""
        self._outgoing.append(encode({
            "jsonrpc": JSONRPC_VERSION,
            "id": request_id,
            "method": method or "",
            "error": error.to_wire(),
        }))

    def reply_invalid(self, frame: InvalidFrame) -> bool:
        """Answer an invalid frame if it can be answered; returns whether a reply was queued."""
        if frame.error is None or frame.id is None:
            return False
        self.send_error(frame.id, frame.method, frame.error)
        return True

    def has_data_to_send(self) -> bool:
        """Whether frames are queued (what :meth:`data_to_send` would return is not empty)."""
        return bool(self._outgoing)

    def data_to_send(self) -> list[str]:
        """Frames queued since the last call, in order; send each as one text frame."""
        out, self._outgoing = self._outgoing, []
        return out
