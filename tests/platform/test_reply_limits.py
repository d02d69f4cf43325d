"""Unbounded replies (issue 18 item 4): an EPOS's REST reply past ``max_reply_bytes`` is a typed
failure, read no further; the call log (and the dashboard, which shows it) keeps a bounded excerpt.

The EPOSes here are plain Starlette apps, as a stranger would write them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from dojo_epos.platform import Failure, Platform
from dojo_epos.platform.calllog import MAX_LOGGED_BYTES
from tests.platform.conftest import scope_of
from tests.platform.test_invoke_rest import register_rest

LIMIT = 64 * 1024


def order(note_size: int) -> bytes:
    return json.dumps({"id": "ord_1", "status": "Confirmed", "note": "n" * note_size,
                       "details": {"orderType": "Collection", "collection": {"asap": True}}}).encode()


def epos(body: bytes, *, chunked: bool) -> Starlette:
    sent: list[int] = []

    async def get_order(request: Request) -> Response:
        if not chunked:
            sent.append(len(body))
            return Response(body, media_type="application/json")

        async def drip() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 8192):
                sent.append(8192)
                yield body[start:start + 8192]

        return StreamingResponse(drip(), media_type="application/json")

    app = Starlette(routes=[Route("/dojo/v1/orders/{orderId}", get_order)])
    app.state.sent = sent
    return app


@pytest.fixture
async def limited(platform: Platform) -> Platform:
    platform.invoker.max_reply_bytes = LIMIT
    return platform


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_reply_past_the_limit_is_reply_too_large(
    http: httpx.AsyncClient, limited: Platform, chunked: bool
) -> None:
    app = epos(order(3 * 1024 * 1024), chunked=chunked)
    limited.invoker.set_http_transport(httpx.ASGITransport(app=app))
    await register_rest(http, ["GetOrderById"])
    outcome = await limited.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.failure is Failure.REPLY_TOO_LARGE, outcome.detail
    assert f"larger than {LIMIT} bytes" in (outcome.detail or "")
    assert outcome.reply == {"status": 200, "body": None}
    await limited.invoker.flush_log()
    [row] = await limited.store.calls(scope_of())
    assert row.outcome == "ReplyTooLarge" and len(json.dumps(row.reply)) < 200


async def test_a_large_reply_under_the_limit_is_served_but_logged_as_an_excerpt(
    http: httpx.AsyncClient, limited: Platform
) -> None:
    app = epos(order(LIMIT // 2), chunked=False)
    limited.invoker.set_http_transport(httpx.ASGITransport(app=app))
    await register_rest(http, ["GetOrderById"])
    outcome = await limited.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.ok, outcome.detail
    assert outcome.result is not None and len(outcome.result.note) == LIMIT // 2  # type: ignore[attr-defined]
    [recent] = limited.invoker.recent(scope_of())
    await limited.invoker.flush_log()
    [row] = await limited.store.calls(scope_of())
    for kept in (recent.reply, row.reply):
        assert kept["truncated"] is True and kept["jsonBytes"] > LIMIT // 2
        assert len(json.dumps(kept)) < MAX_LOGGED_BYTES
    page = await http.get("/dashboard/calls")
    assert page.status_code == 200 and "GetOrderById" in page.text
    assert "truncated" in page.text and "n" * 5000 not in page.text
