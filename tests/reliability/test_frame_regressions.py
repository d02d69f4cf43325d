"""Regression tests for the defects the frame fuzzer found (each fixed in the code)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect

from dojo_epos.contract.errors import EposError
from dojo_epos.contract.jsonrpc import InvalidFrame, Peer, Request, encode
from dojo_epos.epos.connector import Connector
from dojo_epos.testing import memory_socket_pair
from tests.reliability.rigs import API_KEY, platform_rig
from tests.reliability.test_faults import GatedHandler


def test_an_answered_invalid_frame_carries_a_trace_id() -> None:
    """The InvalidRequest reply to a bad frame has a traceId, like every other error reply."""
    peer = Peer()
    peer.receive_text('{"jsonrpc": 2, "id": "x", "method": "ListAreasV1"}')
    (frame,) = peer.events_received()
    assert isinstance(frame, InvalidFrame) and peer.reply_invalid(frame)
    (reply,) = peer.data_to_send()
    assert json.loads(reply)["error"]["traceId"]


@pytest.mark.parametrize("send", ["result", "result_json", "error"])
def test_replies_echoing_a_lone_surrogate_id_can_go_on_a_real_socket(send: str) -> None:
    """An id or method arriving as a "\\ud800" escape is echoed escaped, never as raw text that
    UTF-8 cannot encode (which broke the reply on a real socket)."""
    peer = Peer()
    peer.receive_text(json.dumps({"jsonrpc": "2.0", "id": "a\ud800", "method": "M\udfff"}))
    (request,) = peer.events_received()
    assert isinstance(request, Request)
    if send == "result":
        peer.send_result(request.id, request.method, {"name": "Café"})
    elif send == "result_json":
        peer.send_result_json(request.id, request.method, '{"name":"Café"}')
    else:
        peer.send_error(request.id, request.method, EposError.not_found("no"))
    (text,) = peer.data_to_send()
    text.encode("utf-8")
    assert json.loads(text)["id"] == "a\ud800"
    assert encode({"x": "Café"}) == '{"x":"Café"}'  # ordinary text is still sent as is


async def test_the_connector_answers_a_surrogate_id_over_an_encodable_frame() -> None:
    """End to end through the connector: the reply to such an id is sendable and matches it."""
    epos_end, platform_end = memory_socket_pair()

    async def connect() -> Any:
        return epos_end

    connector = Connector(GatedHandler(), "memory://r", API_KEY, "h", connect=connect)
    runner = asyncio.create_task(connector.run())
    try:
        await platform_end.send(json.dumps({"jsonrpc": "2.0", "id": "\ud800",
                                            "method": "ListAreasV1", "params": {"headers": {}}}))
        text = await asyncio.wait_for(platform_end.recv(), 5)
        assert isinstance(text, str)
        text.encode("utf-8")
        assert json.loads(text)["id"] == "\ud800"
    finally:
        await connector.stop()
        await runner


@pytest.mark.socket
async def test_the_gateway_answers_a_surrogate_id_and_keeps_the_socket(tmp_path: Path) -> None:
    """A request from the EPOS with such an id gets its NotFound (with a trace id), and the socket
    still carries the platform's next call."""
    rig = await platform_rig(tmp_path)
    try:
        headers = {"Authorization": f"Basic {API_KEY}", "software-house-id": "s-house"}
        async with ws_connect(rig.server.ws_url, additional_headers=headers) as sock:
            await sock.send(json.dumps({"jsonrpc": "2.0", "id": "\ud800", "method": "X"}))
            reply = json.loads(await asyncio.wait_for(sock.recv(), 5))
            assert reply["id"] == "\ud800" and reply["error"]["traceId"]
            await sock.send(json.dumps({"jsonrpc": "2.0", "id": "next", "method": "X"}))
            assert json.loads(await asyncio.wait_for(sock.recv(), 5))["id"] == "next"
    finally:
        await rig.aclose()
