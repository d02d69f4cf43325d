"""Models of Dojo's platform API for EPOS vendors (``/epos/integrations*`` and ``/epos/events``).

Names follow the schemas of the Dojo API spec. The REST password appears only in the request model;
no response model has a field for it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from pydantic import Field, ValidationError, model_validator

from dojo_epos.contract.bounds import Instant, Text
from dojo_epos.contract.wire import WireModel

__all__ = [
    "AllIntegrationsResponse",
    "AuthType",
    "CapabilityRequest",
    "CapabilityResponse",
    "DojoManagedIntegrationResponse",
    "EventRequest",
    "OrderEvent",
    "PartyEvent",
    "PosEvent",
    "PosEventType",
    "ReservationEvent",
    "RestAuthRequest",
    "RestAuthResponse",
    "RestBasicAuthRequest",
    "RestBasicAuthResponse",
    "RestIntegrationRequest",
    "RestIntegrationResponse",
    "WsIntegrationRequest",
    "WsIntegrationResponse",
]


class AuthType(StrEnum):
    """How Dojo authenticates to an EPOS's REST routes; only HTTP basic exists."""

    BASIC = "basic"


class CapabilityRequest(WireModel):
    """A capability to register: its name (any accepted alias) and version, e.g. ``v1``."""

    name: Text
    version: Text


class CapabilityResponse(WireModel):
    """A registered capability, as echoed back, with when it was last registered."""

    name: Text
    version: Text
    updated_at: Instant


class RestBasicAuthRequest(WireModel):
    """The HTTP basic credentials Dojo should use against the EPOS."""

    username: Text
    password: Text = Field(repr=False)


class RestBasicAuthResponse(WireModel):
    """The registered basic-auth user name; the password is never returned."""

    username: Text


class RestAuthRequest(WireModel):
    """How Dojo should authenticate to the EPOS REST routes."""

    auth_type: AuthType = AuthType.BASIC
    # Optional in the spec; required here because ``basic`` is the only auth type.
    basic: RestBasicAuthRequest


class RestAuthResponse(WireModel):
    """The registered authentication, without secrets."""

    auth_type: AuthType = AuthType.BASIC
    basic: RestBasicAuthResponse | None = None


class RestIntegrationRequest(WireModel):
    """PUT /epos/integrations/rest body: the EPOS base URL, capabilities and credentials."""

    url: Text
    capabilities: list[CapabilityRequest]
    auth: RestAuthRequest


class RestIntegrationResponse(WireModel):
    """A registered REST integration."""

    url: Text
    capabilities: list[CapabilityResponse]
    auth: RestAuthResponse
    created_at: Instant


class WsIntegrationRequest(WireModel):
    """PUT /epos/integrations/ws body: the capabilities served over the socket."""

    capabilities: list[CapabilityRequest]


class WsIntegrationResponse(WireModel):
    """A registered WebSocket integration."""

    capabilities: list[CapabilityResponse]
    created_at: Instant


class DojoManagedIntegrationResponse(WireModel):
    """An integration Dojo runs on the account's behalf."""

    capabilities: list[CapabilityResponse]
    created_at: Instant


class AllIntegrationsResponse(WireModel):
    """GET /epos/integrations: every integration of the account, by kind."""

    rest_integrations: list[RestIntegrationResponse]
    ws_integrations: list[WsIntegrationResponse]
    dojo_managed_integrations: list[DojoManagedIntegrationResponse] = Field(default_factory=list)


class PosEventType(StrEnum):
    """Changes a POS reports to Dojo (there is no Created event: send Updated)."""

    ORDER_UPDATED = "OrderUpdated"
    PARTY_UPDATED = "PartyUpdated"
    RESERVATION_UPDATED = "ReservationUpdated"


class OrderEvent(WireModel):
    """The order that changed."""

    order_id: Text


class PartyEvent(WireModel):
    """The party that changed."""

    party_id: Text


class ReservationEvent(WireModel):
    """The reservation that changed."""

    reservation_id: Text


PosEvent = OrderEvent | PartyEvent | ReservationEvent

_EVENT_CLASS: dict[PosEventType, type[WireModel]] = {
    PosEventType.ORDER_UPDATED: OrderEvent,
    PosEventType.PARTY_UPDATED: PartyEvent,
    PosEventType.RESERVATION_UPDATED: ReservationEvent,
}


def _wire_fields(model: type[WireModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


class EventRequest(WireModel):
    """POST /epos/events body (and its 200 echo): an event type and the id it is about.

    spec defect #37: the spec does not tie ``eventType`` to the event's shape; we require
    OrderUpdated <-> ``orderId``, PartyUpdated <-> ``partyId`` and
    ReservationUpdated <-> ``reservationId``.
    """

    event_type: PosEventType
    event: PosEvent

    @model_validator(mode="before")
    @classmethod
    def _event_by_type(cls, data: Any) -> Any:
        # Validate the event against the class its type names, not whichever union member fits.
        if isinstance(data, dict):
            raw_type = data.get("eventType", data.get("event_type"))
            event = data.get("event")
            try:
                expected = _EVENT_CLASS.get(PosEventType(str(raw_type)))
            except ValueError:
                return data
            if expected is not None and isinstance(event, dict):
                try:
                    return {**data, "event": expected.model_validate(event)}
                except ValidationError as exc:
                    wanted = ", ".join(_wire_fields(expected))
                    raise ValueError(
                        f"event of type {raw_type} must carry {wanted}: {exc.errors()[0]['msg']}"
                    ) from None
        return data

    @model_validator(mode="after")
    def _pairing(self) -> Self:
        expected = _EVENT_CLASS[self.event_type]
        if not isinstance(self.event, expected):
            raise ValueError(f"{self.event_type} needs an event of the form {expected.__name__}")
        return self
