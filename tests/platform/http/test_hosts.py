"""DNS rebinding: the served platform answers only to its own Host names (issue 18 item 2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dojo_epos.platform.http.hosts import HostGuard, allowed_hosts_for


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _client(bound: str, extra: tuple[str, ...] = ()) -> httpx.AsyncClient:
    guard = HostGuard(_ok, allowed_hosts_for(bound, extra))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://127.0.0.1")


@pytest.mark.parametrize(("host", "status"), [
    ("127.0.0.1:8000", 200), ("localhost:8000", 200), ("LOCALHOST", 200), ("[::1]:8000", 200),
    ("evil.example", 421), ("evil.example:8000", 421), ("127.0.0.1.evil.example", 421),
    ("", 421), ("localhost.evil.example:8000", 421),
])
async def test_only_loopback_names_and_the_bound_address_are_answered(host: str, status: int) -> None:
    async with _client("127.0.0.1") as client:
        response = await client.get("/dashboard", headers={"host": host})
    assert response.status_code == status, host
    if status == 421:
        assert response.json()["error"] == "misdirected_request"


async def test_the_bound_address_and_allowed_hosts_are_answered() -> None:
    async with _client("192.0.2.10", ("epos-lab.internal",)) as client:
        assert (await client.get("/", headers={"host": "192.0.2.10:8000"})).status_code == 200
        assert (await client.get("/", headers={"host": "epos-lab.internal"})).status_code == 200
        assert (await client.get("/", headers={"host": "other.internal"})).status_code == 421
    assert "0.0.0.0" not in allowed_hosts_for("0.0.0.0")


async def test_a_websocket_handshake_for_another_host_is_closed_before_the_app() -> None:
    reached: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    guard = HostGuard(app, allowed_hosts_for("127.0.0.1"))
    await guard({"type": "websocket", "path": "/epos", "headers": [(b"host", b"rebind.example")]},
                receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}] and reached == []
    await guard({"type": "websocket", "path": "/epos", "headers": [(b"host", b"localhost:8000")]},
                receive, send)
    assert len(reached) == 1
