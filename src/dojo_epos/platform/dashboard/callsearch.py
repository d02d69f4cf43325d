"""Finding calls in the log by what a person has at hand: an order id or a trace id.

A call *mentions* an id when its request or reply carries it under that field name anywhere (a
WebSocket call's params, a REST body, an EPOSError's ``traceId``, an order in a search page) or, for
an order id, in a REST request's path (``/v1/orders/{orderId}/...``) or as an order's own ``id`` in
a reply (not a JSON-RPC frame's ``id``, which is the request's). Matching is exact, not a
substring, so ``ord_1`` does not find ``ord_10``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from dojo_epos.platform.store import CallRow

__all__ = ["mentions"]

_FIELDS = {"orderId": {"orderid", "order_id"}, "traceId": {"traceid", "trace_id", "trace-id"}}
#: How deep the search looks into a request or reply (they are bounded, but never trusted).
MAX_DEPTH = 12


def _carries(value: Any, names: set[str], wanted: str, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(key, str) and key.lower() in names and inner == wanted:
                return True
            if _carries(inner, names, wanted, depth + 1):
                return True
    elif isinstance(value, list):
        return any(_carries(inner, names, wanted, depth + 1) for inner in value)
    return False


def _in_path(request: Any, wanted: str) -> bool:
    if not isinstance(request, dict) or not isinstance(request.get("url"), str):
        return False
    segments = [unquote(s) for s in urlsplit(request["url"]).path.split("/")]
    return any(a == "orders" and b == wanted for a, b in zip(segments, segments[1:], strict=False))


def mentions(row: CallRow, field: str, wanted: str) -> bool:
    """Whether the call's request or reply carries ``wanted`` as ``field`` (orderId, traceId)."""
    names = _FIELDS.get(field, {field.lower()})
    if _carries(row.request, names, wanted) or _carries(row.reply, names, wanted):
        return True
    if field == "orderId":
        # an order in a reply is {"id": ...}; an order's own id counts as its order id
        return _in_path(row.request, wanted) or _carries(_answer(row.reply), {"id"}, wanted)
    return False


def _answer(reply: Any) -> Any:
    """A reply without a WebSocket frame's own ``id`` (the JSON-RPC request's, not an order's)."""
    if isinstance(reply, dict) and "jsonrpc" in reply:
        return {key: value for key, value in reply.items() if key in ("result", "error")}
    return reply
