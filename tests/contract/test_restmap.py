"""Splitting one call's params into the REST request the platform sends."""

from __future__ import annotations

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import CATALOGUE, Capability, lookup
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.contract.restmap import RestRequest, check_rest_body, rest_request_for


def test_path_headers_and_body_are_split_out() -> None:
    request = rest_request_for(lookup("RecordOrderPayment"), {
        "orderId": "ord 1/2", "paymentIntentId": "pi", "lockId": "lk",
        "paidAmount": {"value": 5, "currencyCode": "GBP"},
        "headers": {"waiterId": "w1", "deviceType": "Terminal"}})
    assert request == RestRequest(
        "POST", "/v1/orders/ord%201%2F2/record-payment",
        {"waiter-id": "w1", "device-type": "Terminal"},
        {"paymentIntentId": "pi", "lockId": "lk", "paidAmount": {"value": 5, "currencyCode": "GBP"}})


def test_update_maps_id_to_the_path_parameter() -> None:
    """spec defect #25: WS names the party ``id``; REST puts it in the path."""
    request = rest_request_for(lookup("UpdateParty"), {"id": "p_1", "status": "Seated"})
    assert (request.method, request.path, request.body) == (
        "PUT", "/v1/parties/p_1", {"status": "Seated"})


def test_routes_without_a_body_send_none() -> None:
    request = rest_request_for(lookup("GetOrderById"), m.OrderIdParams(order_id="o"))
    assert request == RestRequest("GET", "/v1/orders/o", {}, None)
    assert rest_request_for(lookup("ListAreas"), None) == RestRequest("GET", "/v1/areas", {}, None)


def test_models_are_serialized_with_rest_casing() -> None:
    params = m.SearchTablesParams(area_id="a1", headers=m.RequestHeaders(device_id="d"))
    request = rest_request_for(lookup("SearchTables"), params)
    assert request.body == {"areaId": "a1"} and request.headers == {"device-id": "d"}


@pytest.mark.parametrize(("params", "message"), [
    ({}, "orderId: Field required"),
    ({"orderId": 7}, "orderId: Input should be a valid string"),
    ({"orderId": ""}, "orderId: String should have at least 1 character"),
    ({"orderId": "o", "headers": {"waiterId": 5}}, "headers.waiterId"),
])
def test_params_that_cannot_become_a_request_are_invalid(params: dict[str, object],
                                                         message: str) -> None:
    with pytest.raises(EposError) as caught:
        rest_request_for(lookup("GetOrderById"), params)
    assert caught.value.error_type is ErrorType.INVALID_REQUEST
    assert caught.value.debug_message is not None and message in caught.value.debug_message
    assert caught.value.trace_id


@pytest.mark.parametrize("capability", [c for c in CATALOGUE if c.rest_body is not None],
                         ids=lambda c: c.name)
def test_the_params_model_checks_everything_a_rest_body_must_be(capability: Capability) -> None:
    """Why a REST body is validated once (as part of the params): each body field is a params
    field with the same type, alias and constraints, and a body model that its params model does
    not inherit has no validators of its own. Only extra fields are left to check_rest_body."""
    body, params = capability.rest_body, capability.params
    assert body is not None
    for name, field in body.model_fields.items():
        mine = params.model_fields.get(name)
        assert mine is not None, f"{params.__name__} lacks {name}"
        assert (mine.annotation, mine.alias, mine.is_required(), mine.metadata) == (
            field.annotation, field.alias, field.is_required(), field.metadata), name
    if not issubclass(params, body):
        own = body.__pydantic_decorators__
        assert not (own.field_validators or own.model_validators or own.validators
                    or own.root_validators), body.__name__


def test_a_rest_body_that_forbids_extra_fields_names_the_first_one() -> None:
    lock = lookup("CreateOrderLock")
    check_rest_body(lock, {"lockId": "l", "expiry": "2031-01-01T00:00:00Z"})
    check_rest_body(lock, {"lock_id": "l"})  # field names are accepted as the models accept them
    with pytest.raises(EposError) as caught:
        check_rest_body(lock, {"lockId": "l", "orderId": "o"})
    assert caught.value.error_type is ErrorType.INVALID_REQUEST
    assert caught.value.debug_message == "orderId: Extra inputs are not permitted"
    check_rest_body(lookup("SearchOrders"), {"unknown": 1})  # its model ignores extra fields
