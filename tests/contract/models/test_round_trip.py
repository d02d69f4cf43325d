"""Hypothesis round trips: a model dumped to JSON and parsed again is equal to itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from dojo_epos.contract import models as m


def model(cls: Callable[..., Any], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Build ``cls`` from exactly these field strategies (no type inference for the others)."""
    return st.fixed_dictionaries(fields).map(lambda kwargs: cls(**kwargs))


# what the contract calls text: no NUL, no lone surrogates (see contract.models.scalars)
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)
aware = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))]),
)
money = model(
    m.Money,
    value=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    currency_code=st.from_regex(r"\A[A-Z]{3}\Z"),
)
ints = st.integers(min_value=-(2**31), max_value=2**31 - 1)
modifiers = st.lists(
    model(m.Modifier, name=text, quantity=ints, amount_per_modifier=money, plu=ids), max_size=2
)
sub_items = model(
    m.OrderSubItem, amount_per_item=money, quantity=ints, note=st.none() | text, name=text,
    plu=ids, modifiers=modifiers,
)
items = model(
    m.OrderItem, amount_per_item=money, quantity=ints, note=st.none() | text, name=text,
    plu=ids, sub_items=st.lists(sub_items, max_size=2), modifiers=modifiers,
)
details = st.one_of(
    model(
        m.OrderDetails, order_type=st.just(m.OrderType.DINE_IN),
        dine_in=model(m.DineInDetails, table_id=st.none() | ids, ready_at=st.none() | aware),
    ),
    model(
        m.OrderDetails, order_type=st.just(m.OrderType.COLLECTION),
        collection=model(
            m.CollectionDetails, asap=st.none() | st.booleans(), collect_at=st.none() | aware
        ),
    ),
)
orders = model(
    m.Order, id=ids, status=st.sampled_from(m.OrderStatus), details=details,
    items=st.lists(items, max_size=3),
    payments=st.lists(
        model(m.Payment, payment_intent_id=ids, paid_amount=money,
                  tips_amount=st.none() | money), max_size=2,
    ),
    discounts=st.lists(
        model(m.Discount, name=text, amount_total=money, amount_percentage=st.none() | ints),
        max_size=2,
    ),
    tax_lines=st.lists(model(m.TaxLine, amount_total=money, id=st.none() | ids), max_size=2),
    customer=st.none() | model(m.Customer, name=st.none() | text),
    created_at=st.none() | aware, total_amount=st.none() | money, payable=st.none() | st.booleans(),
    display_name=st.none() | text,
)
table_ids = st.lists(ids, min_size=1, max_size=3)
parties = model(
    m.Party, id=ids, table_ids=table_ids, status=ids, start_time=aware,
    end_time=st.none() | aware, covers=st.none() | ints,
    deposit=st.none() | model(
        m.PartyDeposit, total_amount=money, payment_intent_ids=st.lists(ids, max_size=2)
    ),
)
reservations = model(
    m.Reservation, id=ids, name=text, covers=ints, start_time=aware, end_time=aware,
    table_ids=table_ids, host_notes=st.none() | text,
)
cursors = st.builds(
    lambda limit, token, forward: m.Cursor(
        limit=limit, **({"after": token} if forward else {"before": token})
    ),
    st.none() | st.integers(min_value=1, max_value=100), st.none() | ids, st.booleans(),
)
flags = st.none() | st.booleans()
bill_lines: st.SearchStrategy[Any] = st.one_of(
    model(m.ImageLine, image=model(m.BillImage, svg_image=text,
                                           align=st.none() | st.sampled_from(m.Align))),
    model(m.LogoLine, logo=model(m.BillLogo, svg_image=text)),
    model(m.MerchantAddressLine, merchant_address=model(
        m.BillMerchantAddress, address_lines=st.lists(text, max_size=3), postcode=text)),
    model(m.MerchantEmailAddressLine,
              merchant_email_address=model(m.BillMerchantEmailAddress, email_address=text)),
    model(m.MerchantNameLine, merchant_name=model(m.BillMerchantName, name=text)),
    model(m.MerchantPhoneNumberLine,
              merchant_phone_number=model(m.BillMerchantPhoneNumber, phone_number=text)),
    model(m.TextLine, text=model(m.BillText, value=text, size=st.sampled_from(m.Size),
                                         bold=flags)),
    model(m.UrlLine, url=model(m.BillURL, url=text, show_qr=flags, show_url=flags)),
    model(m.HorizontalLineLine, horizontal_line=model(
        m.BillHorizontalLine, line=st.none() | st.sampled_from(m.HorizontalLineStyle))),
    model(m.TaxNumberLine, tax_number=model(m.BillTaxNumber, name=text, number=text)),
)
sections = model(m.BillSection, lines=st.lists(bill_lines, max_size=4))
bills = model(m.OrderBill, header=sections, order=orders, footer=sections)

ROUND_TRIP = {
    "Money": money,
    "Order": orders,
    "Party": parties,
    "Reservation": reservations,
    "Cursor": cursors,
    "OrderBill": bills,
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_models_round_trip_through_json(name: str) -> None:
    """model_validate_json(model_dump_json(by_alias, exclude_none)) gives back an equal model."""

    @settings(max_examples=60, deadline=None)
    @given(ROUND_TRIP[name])
    def round_trip(model: BaseModel) -> None:
        again = type(model).model_validate_json(model.model_dump_json(by_alias=True,
                                                                       exclude_none=True))
        assert again == model
        for transport in ("rest", "ws"):
            assert type(model).model_validate(m.dump(model, transport)) == model

    round_trip()
