"""examples/: each example EPOS behaves as its docstring says, over both transports."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from dojo_epos import EposError, EposTestClient, ErrorType, models
from tests.docs.doccheck import ROOT


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


myepos = load("myepos")


def gbp(value: int) -> dict[str, object]:
    return {"value": value, "currencyCode": "GBP"}


@pytest.mark.parametrize("transport", ["rest", "ws"])
async def test_myepos_settles_a_table_in_two_payments_once_each(transport: str) -> None:
    async with EposTestClient(myepos.MyEpos(), transport=transport) as client:  # type: ignore[arg-type]
        page = await client.search_orders(payable_only=True, dine_in={"tableId": "T1"})
        assert [o.id for o in page.data] == ["ord_1"]
        first = await client.record_order_payment(order_id="ord_1", payment_intent_id="pi_a",
                                                  paid_amount=gbp(1200), tips_amount=gbp(100))
        assert first.payable is True and first.paid_amount == models.Money(value=1200, currency_code="GBP")
        last = await client.record_order_payment(order_id="ord_1", payment_intent_id="pi_b",
                                                 paid_amount=gbp(1250))
        retried = await client.record_order_payment(order_id="ord_1", payment_intent_id="pi_b",
                                                    paid_amount=gbp(1250))
        assert retried == last and last.payable is False
        assert last.paid_amount is not None and last.paid_amount.value == 2450
        assert last.tips_amount is not None and last.tips_amount.value == 100
        assert [o.id for o in (await client.search_orders(payable_only=True)).data] == ["ord_2"]
        with pytest.raises(EposError) as too_much:
            await client.record_order_payment(order_id="ord_2", payment_intent_id="pi_c",
                                              paid_amount=gbp(1801))
        with pytest.raises(EposError) as missing:
            await client.get_order_by_id(order_id="ord_9")
        with pytest.raises(EposError) as not_offered:
            await client.cancel_order_by_id(order_id="ord_2")
    assert too_much.value.error_type is ErrorType.INVALID_REQUEST
    assert missing.value.error_type is ErrorType.NOT_FOUND
    assert not_offered.value.error_type is ErrorType.NOT_FOUND
    assert [c.name for c in myepos.MyEpos().offered_capabilities()] == [
        "SearchOrders", "GetOrderById", "RecordOrderPayment", "ListAreas"]
