"""EposTestClient's typed methods: generated from the catalogue, and they work on both transports."""

from __future__ import annotations

from pathlib import Path

import pytest

import dojo_epos
from dojo_epos.codegen import typed_calls_source
from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import CATALOGUE
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.testing import EposTestClient
from tests.conformance.handlers import ConformanceHandler

GENERATED = Path(dojo_epos.__file__).parent / "testing_calls.py"


def test_the_generated_file_is_what_the_catalogue_renders() -> None:
    assert GENERATED.read_text() == typed_calls_source(), \
        "src/dojo_epos/testing_calls.py is stale: run python -m dojo_epos.codegen"


def test_every_handler_method_has_a_typed_call() -> None:
    for cap in CATALOGUE:
        assert callable(getattr(EposTestClient, cap.handler_method)), cap.name


@pytest.fixture(params=["rest", "ws"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_typed_calls_take_fields_or_a_model_and_return_the_result_model(transport: str) -> None:
    handler = ConformanceHandler()
    async with EposTestClient(handler, transport=transport) as client:  # type: ignore[arg-type]
        order = await client.get_order_by_id(order_id="ord_1", headers={"waiterId": "w9"})
        same = await client.get_order_by_id(m.OrderIdParams(order_id="ord_1"))
        areas = await client.list_areas()
        with pytest.raises(EposError) as info:
            await client.get_order_by_id(order_id="nope")
    assert isinstance(order, m.Order) and order.id == "ord_1" and same.id == "ord_1"
    assert handler.contexts[0].waiter_id == "w9"
    assert isinstance(areas, m.AreaList) and len(areas.root) == 2
    assert info.value.error_type is ErrorType.NOT_FOUND


async def test_bad_arguments_are_a_type_error_naming_the_capability() -> None:
    async with EposTestClient(ConformanceHandler()) as client:
        with pytest.raises(TypeError, match="bad arguments for GetOrderById"):
            await client.get_order_by_id(order_idd="ord_1")
        with pytest.raises(TypeError, match="not both"):
            await client.get_order_by_id(m.OrderIdParams(order_id="a"), order_id="b")
    assert client.exchanges == []
