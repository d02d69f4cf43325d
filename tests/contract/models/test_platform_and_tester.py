"""The Dojo platform API models and the EPOS tester models."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from dojo_epos.contract import models as m
from tests.contract.models.factories import (
    TESTER_INSTANCES,
)


def test_rest_auth_response_has_no_password_field() -> None:
    """The password never appears in a response model, even if one is sent to it."""
    response = m.RestAuthResponse.model_validate(
        {"authType": "basic", "basic": {"username": "u", "password": "secret"}}
    )
    assert "password" not in json.dumps(response.to_wire())
    assert "password" not in m.RestBasicAuthResponse.model_fields
    request = m.RestBasicAuthRequest(username="u", password="secret")
    assert "secret" not in repr(request)
    assert request.to_wire() == {"username": "u", "password": "secret"}


@pytest.mark.parametrize(
    ("event_type", "event"),
    [("OrderUpdated", {"orderId": "o"}), ("PartyUpdated", {"partyId": "p"}),
     ("ReservationUpdated", {"reservationId": "r"})],
)
def test_event_request_accepts_matching_pairs(event_type: str, event: dict[str, str]) -> None:
    """spec defect #37: each POS event type with its own id field is accepted and echoed."""
    request = m.EventRequest.model_validate({"eventType": event_type, "event": event})
    assert request.to_wire() == {"eventType": event_type, "event": event}


@pytest.mark.parametrize(
    ("event_type", "event"),
    [("OrderUpdated", {"partyId": "p"}), ("PartyUpdated", {"reservationId": "r"}),
     ("ReservationUpdated", {"orderId": "o"}), ("OrderCreated", {"orderId": "o"}),
     ("OrderUpdated", {})],
)
def test_event_request_rejects_mismatched_pairs(event_type: str, event: dict[str, str]) -> None:
    """spec defect #37: a type with another entity's id (or an unknown type) is refused."""
    with pytest.raises(ValidationError):
        m.EventRequest.model_validate({"eventType": event_type, "event": event})
    with pytest.raises(ValidationError):
        m.EventRequest(event_type=m.PosEventType.PARTY_UPDATED, event=m.OrderEvent(order_id="o"))


def test_flow_result_keeps_the_flow_id_spelling() -> None:
    """spec defect #39: the tester body says flowID, exactly."""
    wire = TESTER_INSTANCES["FlowResult"].to_wire()
    assert "flowID" in wire and "flowId" not in wire
    with pytest.raises(ValidationError):
        m.FlowResult.model_validate({**wire, "flowID": "not-a-uuid"})
