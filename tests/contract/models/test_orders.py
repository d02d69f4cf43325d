"""Orders, money, payments and locks: the defect rules and behaviour of their models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from dojo_epos.contract import models as m
from tests.contract.models.factories import (
    T0,
    order,
)


@pytest.mark.parametrize(
    "bad",
    [
        {"value": 100, "currencyCode": "gbp"},
        {"value": 100, "currencyCode": "GB"},
        {"value": 100, "currencyCode": "POUND"},
        {"value": 1.5, "currencyCode": "GBP"},
        {"value": 1.0, "currencyCode": "GBP"},
        {"value": True, "currencyCode": "GBP"},
        {"value": "100", "currencyCode": "GBP"},
        {"value": 2**63, "currencyCode": "GBP"},
    ],
)
def test_money_rejects_bad_codes_and_non_integer_values(bad: dict[str, Any]) -> None:
    """spec defect #16: 3 upper-case letters; value is a strict int64."""
    with pytest.raises(ValidationError):
        m.Money.model_validate(bad)
    with pytest.raises(ValidationError):
        m.Money.model_validate_json(json.dumps(bad))


def test_money_accepts_any_three_letter_code_and_lists_supported_ones() -> None:
    """Shape is checked by the model; the GBP/EUR business rule is left to callers."""
    assert m.Money.model_validate({"value": -(2**63), "currencyCode": "USD"}).value == -(2**63)
    assert frozenset({"GBP", "EUR"}) == m.SUPPORTED_CURRENCIES


@pytest.mark.parametrize(
    "details",
    [
        {"orderType": "DineIn"},
        {"orderType": "DineIn", "collection": {"asap": True}},
        {"orderType": "Collection"},
        {"orderType": "Collection", "dineIn": {"tableId": "t"}},
    ],
)
def test_order_type_needs_its_matching_details(details: dict[str, Any]) -> None:
    """spec defect #17: DineIn requires dineIn, Collection requires collection."""
    with pytest.raises(ValidationError):
        m.OrderDetails.model_validate(details)


def test_order_id_and_payment_intent_id_are_required() -> None:
    """spec defect #12: Order.id and Payment.paymentIntentId are required on input."""
    wire = order().to_wire("ws")
    with pytest.raises(ValidationError):
        m.Order.model_validate({k: v for k, v in wire.items() if k != "id"})
    with pytest.raises(ValidationError):
        m.Payment.model_validate({"paidAmount": {"value": 1, "currencyCode": "GBP"}})


def test_extend_order_lock_response_is_always_empty() -> None:
    """spec defect #9: ExtendOrderLockResponse dumps to {} and accepts nothing else."""
    assert m.ExtendOrderLockResponse().to_wire() == {}
    assert m.EmptyResult().to_wire("ws") == {}
    with pytest.raises(ValidationError):
        m.ExtendOrderLockResponse.model_validate({"order": {}})


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (m.CreateOrderLockRequest, {"lockId": "l", "expiry": "2024-01-01T00:00:00Z", "x": 1}),
        (m.CreateOrderLockRequest, {"lockId": "l", "expiry": "2024-01-01T00:00:00Z",
                                    "orderId": "o"}),
        (m.ExtendOrderLockRequest, {"expiry": "2024-01-01T00:00:00Z", "lockId": "l"}),
        (m.CreateOrderLockRequest, {"lockId": "l", "expiry": "2024-01-01T00:00:00"}),
    ],
)
def test_lock_bodies_reject_extra_fields_and_naive_times(
    model: type[BaseModel], body: dict[str, Any]
) -> None:
    """additionalProperties false in the REST spec; expiry must carry a time zone."""
    with pytest.raises(ValidationError):
        model.model_validate(body)


def test_received_models_ignore_unknown_fields_and_never_emit_them() -> None:
    """A newer peer's extra fields are tolerated on input and dropped on output."""
    wire = {**order().to_wire(), "loyaltyPoints": 7}
    parsed = m.Order.model_validate(wire)
    assert "loyaltyPoints" not in parsed.to_wire()


def test_datetimes_must_be_aware_and_serialize_utc_with_z() -> None:
    """Date-times carry an offset; UTC is written with Z."""
    assert m.ExtendOrderLockRequest(expiry=T0).to_wire() == {"expiry": "2024-08-12T09:30:00Z"}
    with pytest.raises(ValidationError):
        m.ExtendOrderLockRequest.model_validate({"expiry": "2024-08-12T09:30:00"})


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u00a0\u2003"])
def test_a_blank_payment_intent_id_is_refused(blank: str) -> None:
    """issue 18 item 6: a blank paymentIntentId is no key (every blank one would collide)."""
    paid = {"value": 100, "currencyCode": "GBP"}
    for model in (m.Payment, m.PaymentWithLockId, m.RecordOrderPaymentParams):
        with pytest.raises(ValidationError, match="paymentIntentId"):
            model.model_validate({"paymentIntentId": blank, "paidAmount": paid, "orderId": "o"})
    assert m.Payment.model_validate({"paymentIntentId": " pi 1 ", "paidAmount": paid})


@pytest.mark.parametrize("number", [0, 1_700_000_000, 1.5, True])
def test_a_date_time_given_as_a_number_is_refused(number: object) -> None:
    """issue 18 item 6: a lock expiry (or any date-time) sent as a number is not a 1970 time."""
    for model, body in ((m.CreateOrderLockRequest, {"lockId": "l"}), (m.ExtendOrderLockRequest, {}),
                        (m.ExtendOrderLockParams, {"orderId": "o", "lockId": "l"})):
        with pytest.raises(ValidationError, match="ISO 8601 string"):
            model.model_validate({**body, "expiry": number})
        with pytest.raises(ValidationError):
            model.model_validate_json(json.dumps({**body, "expiry": number}))


@pytest.mark.parametrize(("moment", "fits"), [
    ("9999-12-31T23:59:59Z", True), ("9999-12-31T23:59:59+05:00", True),
    ("9999-12-31T23:59:59-05:00", False), ("0001-01-01T00:00:00-05:00", True),
    ("0001-01-01T00:00:00+01:00", False),
])
def test_date_times_must_stay_representable_in_utc(moment: str, fits: bool) -> None:
    """issue 18 item 1: a lock expiry of 9999-12-31T23:59:59-05:00 is past year 9999 in UTC."""
    body = {"expiry": moment}
    if fits:
        assert m.ExtendOrderLockRequest.model_validate(body).expiry.isoformat()
    else:
        with pytest.raises(ValidationError, match="expiry"):
            m.ExtendOrderLockRequest.model_validate(body)


def test_order_sums_must_fit_64_bits() -> None:
    """issue 18 item 1: each amount is int64, and so must be the sums stored and shown of them."""
    big = {"value": 2**62, "currencyCode": "GBP"}
    item = {"name": "x", "plu": "x", "quantity": 2, "amountPerItem": big}
    body = {"items": [item], "totalAmount": big, "dojoOrderId": "d", "payments": [],
            "details": {"orderType": "Collection", "collection": {"asap": True}}}
    with pytest.raises(ValidationError, match="64-bit"):
        m.CreateOrderRequest.model_validate(body)
    assert m.CreateOrderRequest.model_validate({**body, "items": [{**item, "quantity": 1}]})
    tips = [{"paymentIntentId": f"pi{i}", "paidAmount": {"value": 1, "currencyCode": "GBP"},
             "tipsAmount": {"value": 2**63 - 1, "currencyCode": "GBP"}} for i in range(2)]
    with pytest.raises(ValidationError, match="tipsAmount"):
        m.CreateOrderRequest.model_validate({**body, "items": [{**item, "quantity": 1}], "payments": tips})
    with pytest.raises(ValidationError, match="quantity"):
        m.OrderItem.model_validate({**item, "quantity": 2**31})


@pytest.mark.parametrize("hostile", ["\x00", "a\x00", "\ud800", "x\udfffy"])
def test_text_without_nul_or_lone_surrogates(hostile: str) -> None:
    """issue 18 item 1: PostgreSQL cannot store NUL; a lone surrogate cannot be encoded as UTF-8."""
    with pytest.raises(ValidationError, match="orderId"):
        m.OrderIdParams.model_validate({"orderId": hostile})
    with pytest.raises(ValidationError, match="note"):
        m.OrderItem.model_validate({"name": "n", "plu": "p", "quantity": 1, "note": hostile,
                                    "amountPerItem": {"value": 1, "currencyCode": "GBP"}})
    assert m.OrderIdParams.model_validate({"orderId": "\U0001f355"}).order_id == "\U0001f355"
