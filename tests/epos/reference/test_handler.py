"""The reference EPOS behind the shared dispatcher: it offers every capability."""

from __future__ import annotations

import pytest

from dojo_epos.contract.capabilities import CATALOGUE, lookup
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.epos.handler import call_handler
from tests.epos.reference.helpers import open_order


async def test_offers_every_capability_in_the_catalogue(epos):
    """Registration lists all rows, HandleEvent for both event types included."""
    assert epos.offered_capabilities() == list(CATALOGUE)


@pytest.mark.parametrize("transport", ["rest", "ws"])
async def test_call_handler_round_trip_and_bad_input(epos, transport):
    """call_handler answers wire JSON; bad params are InvalidRequest and change nothing."""
    order = await open_order(epos)
    got = await call_handler(epos, lookup("GetOrderById"), {"orderId": order.id},
                             transport=transport)
    assert isinstance(got, dict) and got["id"] == order.id and got["payable"] is True
    with pytest.raises(EposError) as err:
        await call_handler(epos, lookup("RecordOrderPayment"),
                           {"orderId": order.id, "paymentIntentId": "pi",
                            "paidAmount": {"value": "12", "currencyCode": "GBP"}},
                           transport=transport)
    assert err.value.error_type is ErrorType.INVALID_REQUEST
    again = await call_handler(epos, lookup("GetOrderById"), {"orderId": order.id},
                               transport=transport)
    assert again == got
