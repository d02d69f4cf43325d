"""The one JSON body reader of both HTTP servers: chunked, bounded, strict."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from dojo_epos.jsonbody import MAX_BODY_BYTES, BodyError, read_json_body


def request_of(chunks: list[bytes], content_length: int | None = None) -> Request:
    """A Starlette request whose body arrives in ``chunks`` (as a server would hand it over)."""
    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    pending = list(chunks)
    received: list[int] = []

    async def receive() -> dict[str, Any]:
        body = pending.pop(0) if pending else b""
        received.append(len(body))
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": headers},
                      receive)
    request.state.received = received
    return request


async def test_a_body_in_chunks_is_joined_and_parsed() -> None:
    assert await read_json_body(request_of([b'{"a": [1,', b' 2]}'])) == {"a": [1, 2]}


@pytest.mark.parametrize("raw", [b'{"x": NaN}', b'{"x": Infinity}', b"[-Infinity]", b"{nope",
                                 b"\xff\xfe"])
async def test_what_is_not_json_is_400(raw: bytes) -> None:
    with pytest.raises(BodyError) as caught:
        await read_json_body(request_of([raw]))
    assert caught.value.status == 400 and "not valid JSON" in caught.value.message


async def test_a_blank_body_is_required_unless_a_default_is_given() -> None:
    with pytest.raises(BodyError) as caught:
        await read_json_body(request_of([b"  "]))
    assert caught.value.status == 400
    assert await read_json_body(request_of([b""]), empty={}) == {}


async def test_reading_stops_at_the_first_chunk_past_the_limit() -> None:
    """An endless upload is refused without reading the rest of it."""
    request = request_of([b"[" + b"1," * 40] * 100)
    with pytest.raises(BodyError) as caught:
        await read_json_body(request, max_bytes=100)
    assert caught.value.status == 413
    assert len(request.state.received) == 2


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    request = request_of([b"{}"], content_length=MAX_BODY_BYTES + 1)
    with pytest.raises(BodyError) as caught:
        await read_json_body(request)
    assert caught.value.status == 413 and str(MAX_BODY_BYTES) in caught.value.message
    assert request.state.received == []
