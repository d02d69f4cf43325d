"""The overview's live sockets, with a real EPOS socket connected to the gateway."""

from __future__ import annotations

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.platform.conftest import SANDBOX_KEY, LiveServer, auth_headers


@pytest.mark.socket
async def test_the_overview_shows_a_connected_socket_with_its_time_and_counters(
        live: LiveServer) -> None:
    async with connect(live.ws_url, additional_headers=auth_headers()) as ws:
        async with httpx.AsyncClient(base_url=live.base_url) as http:
            page = (await http.get("/dashboard")).text
            live_part = (await http.get("/dashboard/api/sockets")).json()
        (socket,) = live.platform.gateway.stats()["sockets"]
        await ws.close()
    assert "1 connected" in page
    assert f"sk_sandbox_…{SANDBOX_KEY[-4:]}" in page  # the key's prefix and last four characters
    assert f'datetime="{socket["connectedAt"]}"' in page
    assert "<th scope=\"col\">Requests</th>" in page
    assert live_part["done"] is False and "1 connected" in live_part["html"]
    assert "Authorization" not in page and SANDBOX_KEY not in page  # the key itself never shows
    assert SANDBOX_KEY[len("sk_sandbox_"):-4] not in page
