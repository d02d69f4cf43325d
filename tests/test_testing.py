"""dojo_epos.testing: the public in-memory pair users drive their own handlers with."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosedOK

import dojo_epos.testing
from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.epos.connector import Connector, ConnectorState
from dojo_epos.testing import EposTestClient, memory_socket_pair
from tests.conformance.handlers import ConformanceHandler


def test_public_names_are_pinned() -> None:
    assert sorted(dojo_epos.testing.__all__) == [
        "DEFAULT_PASSWORD", "DEFAULT_USERNAME", "EposTestClient", "Exchange", "MemoryWebSocket",
        "memory_socket_pair",
    ]


async def test_memory_socket_delivers_in_order_then_reports_the_close() -> None:
    a, b = memory_socket_pair()
    await a.send("one")
    await a.send(b"two")
    await a.close()
    assert [await b.recv(), await b.recv()] == ["one", b"two"]
    for _ in range(2):  # every later recv sees the close too
        with pytest.raises(ConnectionClosedOK):
            await b.recv()
    with pytest.raises(ConnectionClosedOK):
        await b.send("late")


def test_unknown_transport_is_refused() -> None:
    with pytest.raises(ValueError, match="transport"):
        EposTestClient(ConformanceHandler(), transport="grpc")  # type: ignore[arg-type]


@pytest.mark.parametrize("transport", ["rest", "ws"])
async def test_call_accepts_models_for_params_and_headers(transport: str) -> None:
    handler = ConformanceHandler()
    async with EposTestClient(handler, transport=transport) as client:  # type: ignore[arg-type]
        params = m.OrderIdParams(order_id="ord_1")
        order = await client.call("GetOrderById", params,
                                  headers=m.RequestHeaders(waiter_id="w5"))
    assert isinstance(order, m.Order) and order.id == "ord_1"
    assert handler.contexts[-1].waiter_id == "w5"
    assert len(client.exchanges) == 1 and client.exchanges[0].transport == transport


def state_of(connector: Connector) -> ConnectorState:
    return connector.state  # read afresh (mypy would keep the narrowed value)


async def test_ws_client_runs_the_real_connector() -> None:
    async with EposTestClient(ConformanceHandler(), transport="ws") as client:
        await client.call("ListAreas")
        connector = client.connector
        assert connector is not None
        assert connector.state is ConnectorState.CONNECTED
        assert connector.stats.requests == 1
    assert state_of(connector) is ConnectorState.STOPPED


async def test_raw_ws_frame_returns_the_reply_or_none() -> None:
    async with EposTestClient(ConformanceHandler(), transport="ws") as client:
        assert await client.raw_ws_frame("definitely not json") is None
        assert await client.raw_ws_frame(b"\xff") is None
        reply = await client.raw_ws_frame(json.dumps({"jsonrpc": "2.0", "id": "x1"}))
        assert reply is not None and reply["id"] == "x1"
        assert reply["error"]["errorType"] == "InvalidRequest"
        reply = await client.raw_ws_frame(json.dumps(
            {"jsonrpc": "2.0", "id": 9, "method": "GetOrderByIdV1",
             "params": {"orderId": "ord_1", "headers": {}}}))
        assert reply is not None and reply["result"]["id"] == "ord_1"
        assert client.unmatched_frames == []


async def test_raw_rest_reaches_the_app_with_or_without_auth() -> None:
    async with EposTestClient(ConformanceHandler(), transport="rest") as client:
        assert (await client.raw_rest("GET", "/v1/areas")).status_code == 200
        assert (await client.raw_rest("GET", "/v1/areas", auth=None)).status_code == 401
        with pytest.raises(RuntimeError, match="transport='ws'"):
            await client.raw_ws_frame("{}")


async def test_missing_path_parameter_is_refused_before_sending() -> None:
    """A call that cannot become a URL is InvalidRequest naming the field, nothing sent."""
    async with EposTestClient(ConformanceHandler(), transport="rest") as client:
        with pytest.raises(EposError) as caught:
            await client.call("GetOrderById", {"orderId": 42})
    assert caught.value.error_type is ErrorType.INVALID_REQUEST
    assert caught.value.debug_message == "orderId: Input should be a valid string"
    assert client.exchanges == []


@pytest.mark.parametrize("length", [257, 5000])
async def test_the_connector_answers_a_long_string_id(length: int) -> None:
    """issue 18 item 7: a string id longer than 256 characters gets its reply (Dojo would time out)."""
    request_id = "id-" + "7" * length
    async with EposTestClient(ConformanceHandler(), transport="ws") as client:
        reply = await client.raw_ws_frame(json.dumps(
            {"jsonrpc": "2.0", "id": request_id, "method": "GetOrderByIdV1",
             "params": {"orderId": "ord_1", "headers": {}}}))
        assert reply is not None and reply["id"] == request_id
        assert reply["result"]["id"] == "ord_1"
