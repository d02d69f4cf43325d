"""The sans-I/O JSON-RPC peer: text in, events out; text built for the other side."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.contract.jsonrpc import (
    ErrorReply,
    InvalidFrame,
    Peer,
    Request,
    Result,
    encode,
    reply_event,
)


def _pair() -> tuple[Peer, Peer]:
    """A platform-side peer (sends requests) and an EPOS-side peer (answers them)."""
    return Peer(), Peer()


def _pump(src: Peer, dst: Peer) -> None:
    for text in src.data_to_send():
        dst.receive_text(text)


def test_request_reaches_the_other_side_with_id_method_and_params() -> None:
    platform, epos = _pair()
    rid = platform.send_request("GetOrderByIdV1", {"orderId": "o1", "headers": {}})
    _pump(platform, epos)
    assert epos.events_received() == [
        Request(rid, "GetOrderByIdV1", {"orderId": "o1", "headers": {}})
    ]


def test_result_is_correlated_with_the_request_and_carries_its_method() -> None:
    """Replies echo ``method`` (spec defect #21) and are matched by id."""
    platform, epos = _pair()
    rid = platform.send_request("GetOrderByIdV1", {"orderId": "o1", "headers": {}})
    _pump(platform, epos)
    (req,) = epos.events_received()
    assert isinstance(req, Request)
    epos.send_result(req.id, req.method, {"id": "o1"})
    (frame,) = epos.data_to_send()
    assert json.loads(frame) == {
        "jsonrpc": "2.0", "id": rid, "method": "GetOrderByIdV1", "result": {"id": "o1"}
    }
    platform.receive_text(frame)
    [reply] = platform.events_received()
    assert reply == Result(rid, "GetOrderByIdV1", {"id": "o1"})
    assert isinstance(reply, Result) and reply.frame == frame  # where it came from, verbatim
    assert platform.pending == 0


@pytest.mark.parametrize(("members", "kind", "error_type"), [
    ('"result": {"a": 1}', Result, None),
    ('"error": {"errorType": "NotFound", "debugMessage": "no"}', ErrorReply, ErrorType.NOT_FOUND),
    ('"result": {}, "error": {"errorType": "NotFound"}', ErrorReply, ErrorType.UNEXPECTED_ERROR),
])
def test_a_reply_keeps_the_frame_it_came_in_as_sent(members: str, kind: type, error_type: Any
                                                    ) -> None:
    """Spacing, member order, escapes: the frame is kept as the other side wrote it, whatever
    the reply turns out to be (a reply carrying both is an error: spec defect #22)."""
    platform = Peer()
    rid = platform.send_request("GetOrderByIdV1", {})
    frame = f'{{ {members} ,"id" : "{rid}", "jsonrpc": "2\\u002e0"}}'
    platform.receive_text(frame)
    [reply] = platform.events_received()
    assert isinstance(reply, kind) and reply.frame == frame
    assert reply_event(json.loads(frame), rid, "GetOrderByIdV1", frame) == reply
    if isinstance(reply, ErrorReply):
        assert reply.error.error_type is error_type


def test_error_reply_is_an_eposerror_without_result() -> None:
    """The ``error`` member is the EPOSError object and ``result`` is absent (defects #22, #23)."""
    platform, epos = _pair()
    rid = platform.send_request("GetOrderByIdV1", {"orderId": "nope", "headers": {}})
    _pump(platform, epos)
    (req,) = epos.events_received()
    epos.send_error(req.id, req.method, EposError.not_found("no order nope"))
    (frame,) = epos.data_to_send()
    message = json.loads(frame)
    assert "result" not in message
    assert message["error"] == {"errorType": "NotFound", "debugMessage": "no order nope"}
    platform.receive_text(frame)
    (event,) = platform.events_received()
    assert isinstance(event, ErrorReply)
    assert event.id == rid
    assert event.error == EposError(ErrorType.NOT_FOUND, "no order nope")


def test_replies_without_method_are_tolerated() -> None:
    """Plain JSON-RPC 2.0 replies (no ``method``) still correlate (spec defect #21)."""
    platform = Peer()
    rid = platform.send_request("ListAreasV1")
    platform.receive_text(encode({"jsonrpc": "2.0", "id": rid, "result": []}))
    assert platform.events_received() == [Result(rid, "ListAreasV1", [])]


def test_a_request_without_params_is_accepted() -> None:
    """ListAreas may omit ``params`` (spec defect #26)."""
    epos = Peer()
    epos.receive_text('{"jsonrpc":"2.0","id":"1","method":"ListAreasV1"}')
    assert epos.events_received() == [Request("1", "ListAreasV1", None)]


def test_integer_ids_are_echoed_unchanged() -> None:
    """Ids are strings in Dojo's schema, but whatever arrives is echoed (spec defect #24)."""
    epos = Peer()
    epos.receive_text('{"jsonrpc":"2.0","id":7,"method":"ListAreasV1"}')
    (req,) = epos.events_received()
    assert isinstance(req, Request)
    epos.send_result(req.id, req.method, [])
    assert json.loads(epos.data_to_send()[0])["id"] == 7


def test_reply_to_unknown_id_is_an_unanswerable_invalid_frame() -> None:
    platform = Peer()
    platform.receive_text('{"jsonrpc":"2.0","id":"ghost","method":"X","result":{}}')
    (event,) = platform.events_received()
    assert isinstance(event, InvalidFrame)
    assert "unknown" in event.reason
    assert not platform.reply_invalid(event)


def test_late_reply_after_forget_is_reported_not_delivered() -> None:
    """A reply after a time-out (forget) must not be taken for a fresh result."""
    platform = Peer()
    rid = platform.send_request("GetOrderByIdV1", {"orderId": "o", "headers": {}})
    assert platform.forget(rid)
    platform.receive_text(encode({"jsonrpc": "2.0", "id": rid, "method": "m", "result": {}}))
    (event,) = platform.events_received()
    assert isinstance(event, InvalidFrame)


def test_reply_with_both_result_and_error_is_an_error() -> None:
    platform = Peer()
    rid = platform.send_request("ListAreasV1")
    platform.receive_text(encode({"jsonrpc": "2.0", "id": rid, "result": [],
                                  "error": {"errorType": "Conflict"}}))
    (event,) = platform.events_received()
    assert isinstance(event, ErrorReply)
    assert event.error.error_type is ErrorType.UNEXPECTED_ERROR


def test_a_non_eposerror_error_object_is_read_as_unexpected() -> None:
    """A peer sending standard ``{code, message}`` errors is understood, not crashed on."""
    platform = Peer()
    rid = platform.send_request("ListAreasV1")
    platform.receive_text(encode({"jsonrpc": "2.0", "id": rid,
                                  "error": {"code": -32601, "message": "nope"}}))
    (event,) = platform.events_received()
    assert isinstance(event, ErrorReply)
    assert event.error.error_type is ErrorType.UNEXPECTED_ERROR


BAD_FRAMES_UNANSWERABLE = [
    "",
    "not json",
    "[]",
    "[1,2]",
    '"text"',
    "42",
    "null",
    '{"jsonrpc":"2.0","method":"ListAreasV1"}',
    '{"jsonrpc":"2.0","id":null,"method":"ListAreasV1"}',
    '{"jsonrpc":"2.0","id":1.5,"method":"ListAreasV1"}',
    '{"jsonrpc":"2.0","id":true,"method":"ListAreasV1"}',
    '{"jsonrpc":"2.0","id":{"a":1},"method":"ListAreasV1"}',
    '{"jsonrpc":"2.0","id":"1","method":"X","params":NaN}',
    "[" * 100_000 + "]" * 100_000,
]


def test_unanswerable_frames_become_invalid_frames_without_reply() -> None:
    """Garbage never raises; without an id there is nothing to answer (spec defect #23)."""
    epos = Peer()
    for text in BAD_FRAMES_UNANSWERABLE:
        epos.receive_text(text)
    events = epos.events_received()
    assert len(events) == len(BAD_FRAMES_UNANSWERABLE)
    assert all(isinstance(e, InvalidFrame) and e.error is None for e in events)
    assert all(not epos.reply_invalid(e) for e in events if isinstance(e, InvalidFrame))
    assert epos.data_to_send() == []


BAD_FRAMES_ANSWERABLE = [
    '{"jsonrpc":"2.0","id":"1"}',
    '{"jsonrpc":"2.0","id":"2","method":5}',
    '{"jsonrpc":"2.0","id":"3","method":"ListAreasV1","params":[1]}',
    '{"jsonrpc":"2.0","id":"4","method":"ListAreasV1","params":"x"}',
    '{"id":"5","method":"ListAreasV1"}',
]


def test_bad_requests_with_an_id_get_an_invalid_request_reply() -> None:
    epos = Peer()
    for text in BAD_FRAMES_ANSWERABLE:
        epos.receive_text(text)
    events = epos.events_received()
    for event in events:
        assert isinstance(event, InvalidFrame)
        assert epos.reply_invalid(event)
    replies = [json.loads(t) for t in epos.data_to_send()]
    assert [r["id"] for r in replies] == ["1", "2", "3", "4", "5"]
    assert all(r["error"]["errorType"] == "InvalidRequest" for r in replies)
    assert all(isinstance(r["method"], str) for r in replies)


def test_oversized_frames_are_refused_unread() -> None:
    epos = Peer(max_frame_bytes=1000)
    epos.receive_text('{"jsonrpc":"2.0","id":"1","method":"X","params":{"p":"' + "x" * 2000 + '"}}')
    epos.receive_text(b"\x00" * 2000)
    events = epos.events_received()
    assert len(events) == 2
    assert all(isinstance(e, InvalidFrame) and "exceeds" in e.reason for e in events)


def test_binary_frames_must_be_utf8() -> None:
    epos = Peer()
    epos.receive_text(b"\xff\xfe")
    epos.receive_text(b'{"jsonrpc":"2.0","id":"1","method":"ListAreasV1"}')
    first, second = epos.events_received()
    assert isinstance(first, InvalidFrame)
    assert second == Request("1", "ListAreasV1", None)


def test_request_ids_are_unique() -> None:
    platform = Peer()
    ids = {platform.send_request("ListAreasV1") for _ in range(1000)}
    assert len(ids) == 1000
    assert platform.pending == 1000


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_arbitrary_input_never_raises(data: str | bytes) -> None:
    """Whatever arrives, the codec yields exactly one event per frame and never raises."""
    epos = Peer()
    epos.receive_text(data)
    assert len(epos.events_received()) == 1


_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
_json = st.recursive(
    _json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["jsonrpc", "id", "method", "params", "result", "error"]),
                       _json, max_size=6))
def test_accepted_requests_re_encode_to_an_equivalent_frame(message: dict[str, object]) -> None:
    """Every frame the codec accepts as a request means the same when re-encoded and re-read."""
    epos = Peer()
    epos.receive_text(json.dumps(message))
    (event,) = epos.events_received()
    if isinstance(event, Request):
        relay = Peer()
        relay_id = relay.send_request(event.method, event.params)
        (text,) = relay.data_to_send()
        again = Peer()
        again.receive_text(text)
        assert again.events_received() == [Request(relay_id, event.method, event.params)]
        assert message["method"] == event.method
        assert message.get("params") == event.params
    else:
        assert isinstance(event, InvalidFrame)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers()), st.text(max_size=30), _json)
def test_a_pre_encoded_result_makes_the_same_frame(request_id: str | int, method: str,
                                                   result: object) -> None:
    """send_result_json splices the result in; the frame means exactly what send_result's does."""
    a, b = Peer(), Peer()
    a.send_result(request_id, method, result)
    b.send_result_json(request_id, method, json.dumps(result))
    assert json.loads(a.data_to_send()[0]) == json.loads(b.data_to_send()[0])


@pytest.mark.parametrize("length", [256, 257, 1000, 100_000])
def test_string_ids_of_any_length_are_answered(length: int) -> None:
    """The document types ``id`` as a string with no length limit (issue 18 item 7): a long id is a
    request like any other, and its reply echoes it exactly."""
    request_id = "r" * length
    epos = Peer()
    epos.receive_text(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ListAreasV1",
                                  "params": {"headers": {}}}))
    (event,) = epos.events_received()
    assert isinstance(event, Request) and event.id == request_id
    epos.send_result(event.id, event.method, [])
    (reply,) = [json.loads(t) for t in epos.data_to_send()]
    assert reply["id"] == request_id


@pytest.mark.parametrize("bad_id", [1.5, True, [1], {"a": 1}])
def test_an_id_that_is_neither_string_nor_integer_is_named_by_its_json_type(bad_id: object) -> None:
    epos = Peer()
    epos.receive_text(json.dumps({"jsonrpc": "2.0", "id": bad_id, "method": "ListAreasV1"}))
    (event,) = epos.events_received()
    assert isinstance(event, InvalidFrame)
    assert "must be a string or integer, not a" in event.reason, event.reason
