"""Hypothesis strategies for JSON-RPC frames: valid, invalid, huge, deeply nested, wrong ids, binary;
and the rule for which of them the other side must answer.

The rule is the contract's (domain notes §7, spec defect #23): a frame is answered when it is a
UTF-8 JSON object of at most the frame limit, with a string or integer id, and is not itself a reply
(``result``/``error``). Everything else is logged and dropped, never answered, never fatal.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from dojo_epos.contract.capabilities import CATALOGUE
from dojo_epos.contract.jsonrpc import DEFAULT_MAX_FRAME_BYTES

METHODS = sorted({c.rpc_method for c in CATALOGUE})

scalars = (st.none() | st.booleans() | st.integers()
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)
surrogates = st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010)
ids: st.SearchStrategy[Any] = (st.text(max_size=40) | st.text(min_size=250, max_size=300) | st.integers()
       | st.text(surrogates, max_size=3)
       | st.sampled_from([None, 1.5, True, [], {}, "", "\ud800", "id\u0000x"]))
methods = (st.sampled_from([*METHODS, "", "Nope", "__class__", "GetOrderById"])
           | st.text(max_size=30) | st.text(surrogates, max_size=3) | st.integers() | st.none())
# Params that look like the real thing (ids, headers, amounts) more often than pure noise does.
shaped_params = st.fixed_dictionaries({}, optional={
    "headers": st.one_of(st.just({}), json_values),
    "orderId": st.one_of(st.sampled_from(["ord_demo_01", "nope", "", "\ud800"]), json_values),
    "paymentIntentId": st.text(max_size=12),
    "paidAmount": st.one_of(st.fixed_dictionaries({"value": st.integers(),
                                                   "currencyCode": st.text(max_size=4)}),
                            json_values),
    "lockId": st.text(max_size=8),
    "expiry": st.one_of(st.just("2099-01-01T00:00:00Z"), st.text(max_size=10)),
})
messages = st.fixed_dictionaries({}, optional={
    "jsonrpc": st.one_of(st.just("2.0"), json_values),
    "id": ids,
    "method": methods,
    "params": st.one_of(shaped_params, json_values),
    "result": json_values,
    "error": json_values,
})


class Big(str):
    """A long frame that shows itself briefly in failure reports."""

    def __repr__(self) -> str:
        return f"Big({str.__repr__(self[:40])}... {len(self)} chars)"


def _nested(depth: int) -> str:
    return Big("[" * depth + "]" * depth)


def _huge(size: int, request_id: str) -> str:
    return Big(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "GetOrderByIdV1",
                           "params": {"headers": {}, "orderId": "x" * size}}))


special_frames = st.sampled_from([
    _nested(50), _nested(5_000), _nested(200_000), Big('{"a":' * 100_000),
    _huge(DEFAULT_MAX_FRAME_BYTES + 10, "huge-1"), _huge(DEFAULT_MAX_FRAME_BYTES - 200, "big-1"),
    "", " ", "null", "[]", '"x"', "1e999999", "NaN", '{"id": NaN}', '{"id": Infinity}',
    "\ufeff{}", '{"jsonrpc":"2.0","id":"dup","id":"dup2","method":"ListAreasV1"}',
])

frames: st.SearchStrategy[str | bytes] = st.one_of(
    messages.map(lambda m: json.dumps(m, allow_nan=False)),
    messages.map(lambda m: json.dumps(m).encode("utf-8", "surrogatepass")),  # binary frames
    st.binary(max_size=64),
    st.text(max_size=64),
    special_frames,
)


def answerable_id(frame: str | bytes) -> Any:
    """The id the receiver must answer ``frame`` under, or None when it must not answer."""
    raw = frame.encode("utf-8", "surrogatepass") if isinstance(frame, str) else frame
    if len(raw) > DEFAULT_MAX_FRAME_BYTES:
        return None
    try:
        message = json.loads(raw.decode("utf-8"), parse_constant=_reject)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or "result" in message or "error" in message:
        return None
    value = message.get("id")
    # the document types id as a string of any length (issue 18 item 7): the frame limit bounds it
    usable = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    return value if usable else None


def _reject(name: str) -> Any:
    raise ValueError(name)


def check_reply_shape(reply: dict[str, Any], request_id: Any) -> None:
    """A reply in the contract's shape: our id, ``jsonrpc`` and ``method`` (spec defect #21), and
    either a result or an EPOSError with no result (spec defects #22, #23)."""
    assert reply.get("jsonrpc") == "2.0", reply
    assert reply.get("id") == request_id, reply
    assert isinstance(reply.get("method"), str), reply
    assert ("result" in reply) != ("error" in reply), reply
    if "error" in reply:
        error = reply["error"]
        assert error.get("errorType") in ("NotFound", "InvalidRequest", "Conflict",
                                          "UnexpectedError"), reply
        assert isinstance(error.get("debugMessage"), str), reply
        assert isinstance(error.get("traceId"), str), reply
