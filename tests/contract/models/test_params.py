"""Request headers and the WebSocket params models."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dojo_epos.contract import models as m
from tests.contract.models.factories import (
    update_party_request,
)


def test_params_always_serialize_headers() -> None:
    """WS params carry ``headers`` ({} when none), and a null headers value is tolerated."""
    assert m.OrderIdParams(order_id="o").to_wire("ws") == {"orderId": "o", "headers": {}}
    assert m.ListAreasParams.model_validate({"headers": None}).to_wire("ws") == {"headers": {}}
    params = m.OrderIdParams.model_validate({"orderId": "o", "headers": {"waiterId": "42"}})
    assert params.headers.waiter_id == "42"


def test_update_params_name_the_entity_by_id() -> None:
    """spec defect #25: WS update params carry the entity id in ``id``."""
    wire = {**update_party_request().to_wire(), "id": "p1"}
    assert m.UpdatePartyParams.model_validate(wire).id == "p1"
    with pytest.raises(ValidationError):
        m.UpdatePartyParams.model_validate(update_party_request().to_wire())


def test_request_headers_map_to_and_from_http() -> None:
    """REST headers (any case) become RequestHeaders and back."""
    parsed = m.RequestHeaders.from_http({"Waiter-Id": "42", "device-type": "Dojo", "other": "x"})
    assert parsed == m.RequestHeaders(waiter_id="42", device_type="Dojo")
    assert parsed.to_http() == {"waiter-id": "42", "device-type": "Dojo"}
