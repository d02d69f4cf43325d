"""Single calls: one capability with the caller's params, over a chosen transport, as a one-step flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dojo_epos.client import PlatformApiError
from dojo_epos.contract.tester_models import REPLY_LINE, REQUEST_LINE, Status, StepResult

from .strangers import Defect, OrderBook, serve_stranger

pytestmark = pytest.mark.parametrize("transport", ["rest", "ws"])


def _line(step: StepResult, prefix: str) -> str:
    return next(line[len(prefix):] for line in step.additional_information if line.startswith(prefix))


async def test_a_valid_reply_is_success_with_the_exact_request_and_reply(
    transport: str, tmp_path: Path
) -> None:
    async with serve_stranger(OrderBook(), transport, tmp_path) as rig:
        result = await rig.client.call_capability("GetOrder", {"orderId": "o2"}, transport=transport)
        again = await rig.client.get_flow_result(result.flow_id)  # kept like any run
    assert result.status is Status.SUCCESS
    assert again.status is Status.SUCCESS
    assert result.flow_name == "Call GetOrderById through EPOS Data API"  # an alias, resolved
    [step] = result.steps
    assert step.name == f"Call GetOrderById over {transport}"
    request = json.loads(_line(step, REQUEST_LINE))
    if transport == "rest":
        assert request["method"] == "GET" and request["url"].endswith("/v1/orders/o2")
        assert "authorization" not in {k.lower() for k in request.get("headers", {})}
    else:
        assert request["method"] == "GetOrderByIdV1" and request["params"]["orderId"] == "o2"
    reply = json.loads(_line(step, REPLY_LINE))
    order = reply["body"] if transport == "rest" else reply["result"]
    assert transport == "ws" or reply["status"] == 200
    assert order["id"] == "o2" and order["totalAmount"]["value"] == 1500
    assert "schema: valid (Order)" in step.additional_information
    assert any(line.startswith("duration: ") for line in step.additional_information)
    assert f"transport: {transport} (asked for)" in step.additional_information


async def test_an_epos_error_is_failure_naming_it(transport: str, tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(), transport, tmp_path) as rig:
        result = await rig.client.call_capability("GetOrderById", {"orderId": "nope"},
                                                  transport=transport)
    assert result.status is Status.FAILURE
    assert "EPOS error: NotFound: no order 'nope'" in result.steps[0].additional_information


async def test_a_schema_violation_is_failure(transport: str, tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(Defect.SCHEMA_VIOLATION), transport, tmp_path) as rig:
        result = await rig.client.call_capability("GetOrderById", {"orderId": "o1"})
    assert result.status is Status.FAILURE
    [violation] = [x for x in result.steps[0].additional_information if x.startswith("schema: violation")]
    assert "status" in violation


async def test_no_answer_in_time_is_timed_out(transport: str, tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(Defect.SLOW), transport, tmp_path, call_timeout=1.5) as rig:
        result = await rig.client.call_capability("GetOrderById", {"orderId": "o1"})
    assert result.status is Status.TIMED_OUT
    assert result.steps[0].status is Status.TIMED_OUT


async def test_an_unregistered_capability_fails_in_dojos_words(transport: str, tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(), transport, tmp_path) as rig:
        result = await rig.client.call_capability("CreateOrder", {"items": []})
    assert result.status is Status.FAILURE
    assert result.steps[0].additional_information[-4:-2] == [
        "CreateOrder method not found",
        "Please register the CreateOrder method on an EPOS Data API adapter"]


async def test_an_unknown_capability_or_transport_is_a_400(transport: str, tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(), transport, tmp_path) as rig:
        with pytest.raises(PlatformApiError) as unknown:
            await rig.client.call_capability("GetEverything", {})
        with pytest.raises(PlatformApiError) as bad_transport:
            await rig.client.call_capability("GetOrderById", {"orderId": "o1"}, transport="carrier-pigeon")
    assert unknown.value.status == 400 and "GetEverything" in str(unknown.value)
    assert bad_transport.value.status == 400 and "rest or ws" in str(bad_transport.value)
