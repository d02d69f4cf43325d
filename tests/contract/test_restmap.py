"""Splitting one call's params into the REST request the platform sends."""

from __future__ import annotations

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import lookup
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.contract.restmap import RestRequest, rest_request_for


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
