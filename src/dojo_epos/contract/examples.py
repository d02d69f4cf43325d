"""Example calls of every capability, in an order that runs against any EPOS holding payable orders.

The Postman collection of the EPOS REST contract (:mod:`dojo_epos.export`) is generated from this
scenario and the catalogue: each row is one capability's params in wire form (path parameters and
body fields together, as :func:`~dojo_epos.contract.restmap.rest_request_for` splits them), the
status the EPOS answers, and the values of the answer later rows use. Values may name
``{{variables}}``: those captured by earlier rows, ``runId`` (fresh for each run, so ids never
collide), and the times :data:`TIME_VARIABLES` computes before each request. The tests hold every
body, with the variables filled in, to Dojo's published schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EPOS_SCENARIO", "SAMPLE_VALUES", "TIME_VARIABLES", "EposExample"]


@dataclass(frozen=True, slots=True)
class EposExample:
    """One call of a capability."""

    capability: str
    params: Mapping[str, Any] = field(default_factory=dict)
    expect: int = 200
    name: str = ""
    """The request's name when it is not the capability's."""
    capture: Mapping[str, str] = field(default_factory=dict)
    """Variable -> where in the JSON answer its value is (dotted; ``-1`` is the last item)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Dojo's request headers (``dojo-requesting-product``, ``waiter-id``, ...)."""


#: Variables set before each request: name -> seconds from now (an ISO 8601 UTC time).
TIME_VARIABLES: Mapping[str, int] = {"lockExpiry": 300, "startTime": 7200, "endTime": 14400}

_MONEY = {"value": 1, "currencyCode": "{{currency}}"}
_RESERVATION = {"dojoReservationId": "dojo_res_{{runId}}", "name": "Postman party", "covers": 4,
                "startTime": "{{startTime}}", "endTime": "{{endTime}}",
                "tableIds": ["{{tableId}}"], "guestRequests": "window seat"}
_PARTY = {"dojoPartyId": "dojo_party_{{runId}}", "name": "Postman party", "covers": 4,
          "tableIds": ["{{tableId}}"], "status": "Seated", "startTime": "{{startTime}}",
          "reservationId": "{{reservationId}}"}
_PAT = {"dojo-requesting-product": "Pay at Table"}

EPOS_SCENARIO: tuple[EposExample, ...] = (
    EposExample("ListAreas"),
    EposExample("SearchTables", {}, capture={"tableId": "data.0.id"}),
    EposExample("SearchOrders", {"payableOnly": True}, headers=_PAT,
                capture={"orderId": "data.0.id", "currency": "data.0.totalAmount.currencyCode"}),
    EposExample("GetOrderById", {"orderId": "{{orderId}}"}, headers=_PAT),
    EposExample("GetOrderById", {"orderId": "ord_postman_missing_{{runId}}"}, expect=404,
                name="GetOrderById (unknown order: 404 NotFound)"),
    EposExample("GetOrderBill", {"orderId": "{{orderId}}"}, headers=_PAT),
    EposExample("CreateOrderLock", {"orderId": "{{orderId}}", "lockId": "lock_{{runId}}",
                                    "expiry": "{{lockExpiry}}"}, headers=_PAT),
    EposExample("ExtendOrderLock", {"orderId": "{{orderId}}", "lockId": "lock_{{runId}}",
                                    "expiry": "{{lockExpiry}}"}, headers=_PAT),
    EposExample("RecordOrderPayment", {"orderId": "{{orderId}}", "paymentIntentId": "pi_{{runId}}",
                                       "paidAmount": _MONEY, "lockId": "lock_{{runId}}"},
                headers=_PAT),
    EposExample("DeleteOrderLock", {"orderId": "{{orderId}}", "lockId": "lock_{{runId}}"},
                headers=_PAT),
    EposExample("CreateOrder", {
        "dojoOrderId": "dojo_order_{{runId}}", "displayName": "Postman order",
        "items": [{"name": "Lemonade", "plu": "DRK-07", "quantity": 2,
                   "amountPerItem": {"value": 350, "currencyCode": "{{currency}}"}}],
        "totalAmount": {"value": 700, "currencyCode": "{{currency}}"},
        "payments": [],
        "details": {"orderType": "Collection", "collection": {"asap": True}},
    }, headers={"dojo-requesting-product": "Order & Pay"}, capture={"createdOrderId": "id"}),
    EposExample("CancelOrderById", {"orderId": "{{createdOrderId}}"}),
    EposExample("CreateReservation", _RESERVATION, capture={"reservationId": "id"}),
    EposExample("GetReservationById", {"reservationId": "{{reservationId}}"}),
    EposExample("UpdateReservationById", {**_RESERVATION, "id": "{{reservationId}}", "covers": 6}),
    EposExample("SearchReservations", {"tableId": "{{tableId}}"}),
    EposExample("CreateParty", _PARTY, capture={"partyId": "id"}),
    EposExample("GetPartyById", {"partyId": "{{partyId}}"}),
    EposExample("UpdatePartyById", {**_PARTY, "id": "{{partyId}}", "covers": 5}),
    EposExample("SearchParties", {"tableId": "{{tableId}}"}),
    EposExample("DeletePartyById", {"partyId": "{{partyId}}"}),
    EposExample("DeleteReservationById", {"reservationId": "{{reservationId}}"}),
    EposExample("HandleEvent:payment_intent.status_updated", {
        "id": "evt_{{runId}}", "accountId": "acc_postman", "event": "payment_intent.status_updated",
        "createdAt": "{{startTime}}",
        "data": {"paymentIntentId": "pi_{{runId}}", "paymentStatus": "Captured",
                 "captureMode": "Auto"}}, name="HandleEvent (payment_intent.status_updated)"),
)

#: Values standing in for the variables where a body is checked without running (the tests).
SAMPLE_VALUES: Mapping[str, str] = {
    "runId": "r0000001", "tableId": "T1", "orderId": "ord_demo_01", "currency": "GBP",
    "createdOrderId": "ord_1", "reservationId": "res_1", "partyId": "party_1",
    "lockExpiry": "2030-01-01T12:05:00Z", "startTime": "2030-01-01T14:00:00Z",
    "endTime": "2030-01-01T16:00:00Z",
}
