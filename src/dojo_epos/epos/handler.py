"""The handler an EPOS engineer writes: one async method per capability.

Subclass :class:`EposHandler` and override the methods for the capabilities your EPOS offers. A method
left alone means the capability is not offered: :meth:`EposHandler.offered_capabilities` leaves it out
(that list is what gets registered with Dojo) and a call to it gets a NotFound error saying so.

Both transports call the handler through :func:`call_handler` (the connector with a request's
``params``, the REST app with the params it builds from the path, the headers and the body, plus the
raw body), so a capability behaves the same over REST and over the WebSocket: same validation, same
errors, same result. The body is validated once, as part of the params; its one REST-only rule
(``additionalProperties: false`` on the lock bodies:
:func:`~dojo_epos.contract.restmap.check_rest_body`) is checked there too, after ``offers()``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import CATALOGUE, Capability, UnknownCapability, for_event
from dojo_epos.contract.errors import EposError, ErrorType, invalid_request_from, new_trace_id
from dojo_epos.contract.restmap import check_rest_body

__all__ = [
    "NOT_OFFERED",
    "EposHandler",
    "Channel",
    "RequestContext",
    "call_handler",
    "call_handler_json",
]

log = logging.getLogger("dojo_epos.epos")

#: How a call reached the handler: over REST, over the WebSocket, or in process (tests). Over
#: "rest" and "ws" the result is serialized at once and dropped (:func:`call_handler_json`), so a
#: handler may answer those with a model it shares (the reference EPOS's order cache does).
Channel = Literal["rest", "ws", "local"]

#: Debug message for a capability the handler does not implement.
NOT_OFFERED = "capability {name} is not offered by this EPOS"


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is asking and how: Dojo's request headers plus what the transport knows."""

    capability: str
    transport: Channel
    trace_id: str = field(default_factory=new_trace_id)
    waiter_id: str | None = None
    requesting_product: str | None = None
    device_id: str | None = None
    device_type: str | None = None

    @classmethod
    def from_headers(
        cls,
        capability: str,
        transport: Channel,
        headers: m.RequestHeaders | None,
        trace_id: str | None = None,
    ) -> RequestContext:
        h = headers or m.RequestHeaders()
        return cls(
            capability=capability,
            transport=transport,
            trace_id=trace_id or new_trace_id(),
            waiter_id=h.waiter_id,
            requesting_product=h.dojo_requesting_product,
            device_id=h.device_id,
            device_type=h.device_type,
        )


class EposHandler:
    """Base class: one coroutine per capability; override the ones your EPOS offers.

    Each takes the capability's parameter model and a :class:`RequestContext`, and returns the result
    model or raises :class:`~dojo_epos.contract.errors.EposError`. Any other exception becomes an
    UnexpectedError with a trace id; its detail goes to the log only.
    """

    #: Event types :meth:`handle_event` subscribes to, when it is overridden.
    handled_events: frozenset[str] = frozenset(
        {"payment_intent.created", "payment_intent.status_updated"}
    )

    # -- orders ---------------------------------------------------------------------------
    async def search_orders(
        self, params: m.SearchOrdersParams, ctx: RequestContext
    ) -> m.PagedOrdersResponse:
        raise _not_offered(ctx)

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        raise _not_offered(ctx)

    async def create_order(self, params: m.CreateOrderParams, ctx: RequestContext) -> m.Order:
        raise _not_offered(ctx)

    async def cancel_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        raise _not_offered(ctx)

    async def get_order_bill(self, params: m.OrderIdParams, ctx: RequestContext) -> m.OrderBill:
        raise _not_offered(ctx)

    # -- locks and payments -----------------------------------------------------------------
    async def create_order_lock(
        self, params: m.CreateOrderLockParams, ctx: RequestContext
    ) -> m.Order:
        raise _not_offered(ctx)

    async def delete_order_lock(
        self, params: m.DeleteOrderLockParams, ctx: RequestContext
    ) -> m.Order:
        raise _not_offered(ctx)

    async def extend_order_lock(
        self, params: m.ExtendOrderLockParams, ctx: RequestContext
    ) -> m.EmptyResult:
        raise _not_offered(ctx)

    async def record_order_payment(
        self, params: m.RecordOrderPaymentParams, ctx: RequestContext
    ) -> m.Order:
        raise _not_offered(ctx)

    # -- tables and areas -------------------------------------------------------------------
    async def list_areas(self, params: m.ListAreasParams, ctx: RequestContext) -> m.AreaList:
        raise _not_offered(ctx)

    async def search_tables(
        self, params: m.SearchTablesParams, ctx: RequestContext
    ) -> m.PagedTablesResponse:
        raise _not_offered(ctx)

    # -- parties ----------------------------------------------------------------------------
    async def create_party(self, params: m.CreatePartyParams, ctx: RequestContext) -> m.Party:
        raise _not_offered(ctx)

    async def get_party_by_id(self, params: m.PartyIdParams, ctx: RequestContext) -> m.Party:
        raise _not_offered(ctx)

    async def update_party_by_id(
        self, params: m.UpdatePartyParams, ctx: RequestContext
    ) -> m.Party:
        raise _not_offered(ctx)

    async def delete_party_by_id(
        self, params: m.PartyIdParams, ctx: RequestContext
    ) -> m.EmptyResult:
        raise _not_offered(ctx)

    async def search_parties(
        self, params: m.SearchPartiesParams, ctx: RequestContext
    ) -> m.PagedPartiesResponse:
        raise _not_offered(ctx)

    # -- reservations -----------------------------------------------------------------------
    async def create_reservation(
        self, params: m.CreateReservationParams, ctx: RequestContext
    ) -> m.Reservation:
        raise _not_offered(ctx)

    async def get_reservation_by_id(
        self, params: m.ReservationIdParams, ctx: RequestContext
    ) -> m.Reservation:
        raise _not_offered(ctx)

    async def update_reservation_by_id(
        self, params: m.UpdateReservationParams, ctx: RequestContext
    ) -> m.Reservation:
        raise _not_offered(ctx)

    async def delete_reservation_by_id(
        self, params: m.ReservationIdParams, ctx: RequestContext
    ) -> m.EmptyResult:
        raise _not_offered(ctx)

    async def search_reservations(
        self, params: m.SearchReservationsParams, ctx: RequestContext
    ) -> m.PagedReservationsResponse:
        raise _not_offered(ctx)

    # -- events -----------------------------------------------------------------------------
    async def handle_event(self, params: m.HandleEventParams, ctx: RequestContext) -> m.EmptyResult:
        raise _not_offered(ctx)

    # -- the wire -------------------------------------------------------------------------------
    def encode_result(self, result: BaseModel, transport: Channel) -> str:
        """``result`` as the JSON text a transport sends (:func:`call_handler_json` asks here).

        Override only to serve JSON already written for this very object (the reference EPOS
        keeps its cached orders' JSON); the text must be what this method would write."""
        return result.model_dump_json(
            by_alias=True, exclude_none=True,
            context={"transport": "ws" if transport == "ws" else "rest"})

    # -- introspection ----------------------------------------------------------------------
    def offers(self, capability: Capability) -> bool:
        """Whether this handler implements ``capability`` (its method is overridden)."""
        mine = getattr(type(self), capability.handler_method, None)
        base = getattr(EposHandler, capability.handler_method)
        if mine is None or mine is base:
            return False
        if capability.event_type is not None:
            return capability.event_type in self.handled_events
        return True

    def offered_capabilities(self) -> list[Capability]:
        """The catalogue rows this handler implements, in catalogue order (what to register)."""
        return [c for c in CATALOGUE if self.offers(c)]


def _not_offered(ctx: RequestContext) -> EposError:
    return EposError(ErrorType.NOT_FOUND, NOT_OFFERED.format(name=ctx.capability), ctx.trace_id)


def event_row(capability: Capability, raw_params: Mapping[str, Any] | None) -> Capability:
    """For HandleEvent, the catalogue row of the event type the params carry.

    Both HandleEvent rows share one JSON-RPC method and one REST route, so a transport finds only
    the first; whether the handler offers the call depends on the event's own type.
    """
    if capability.event_type is None or raw_params is None:
        return capability
    event_type = raw_params.get("event")
    if not isinstance(event_type, str):
        return capability
    try:
        return for_event(event_type)
    except UnknownCapability:
        return capability


def parse_params(capability: Capability, raw: Mapping[str, Any] | None) -> BaseModel:
    """Validate raw wire params into the capability's model; InvalidRequest names the field."""
    try:
        data = raw if isinstance(raw, dict) else dict(raw) if raw is not None else {}
        return capability.params.model_validate(data)
    except ValidationError as exc:
        raise invalid_request_from(exc) from None


async def call_handler(
    handler: EposHandler,
    capability: Capability,
    raw_params: Mapping[str, Any] | None,
    *,
    transport: Channel,
    trace_id: str | None = None,
    rest_body: Mapping[str, Any] | None = None,
) -> dict[str, Any] | list[Any]:
    """Run one call end to end: validate, dispatch, check the result, encode it for ``transport``.

    Returns the wire result (JSON-ready). Raises :class:`EposError` only: validation failures are
    InvalidRequest, an unoffered capability NotFound, and any other exception UnexpectedError with a
    fresh trace id (the traceback is logged under that id, never sent). ``rest_body`` is the JSON
    body of a REST request (its fields are also in ``raw_params``); once the capability is known
    to be offered, its REST-only rule is checked (:func:`~dojo_epos.contract.restmap.check_rest_body`).
    """
    result = await _run_call(handler, capability, raw_params, transport, trace_id, rest_body)
    return m.to_wire(result, transport="ws" if transport == "ws" else "rest")


async def call_handler_json(
    handler: EposHandler,
    capability: Capability,
    raw_params: Mapping[str, Any] | None,
    *,
    transport: Channel,
    trace_id: str | None = None,
    rest_body: Mapping[str, Any] | None = None,
) -> str:
    """:func:`call_handler`, with the result already encoded as JSON text.

    The transports use this one: pydantic writes the JSON in one pass from the model, where
    building a dict and then ``json.dumps`` would walk the result twice (the hot path of every
    reply; see the WebSocket benchmark).
    """
    result = await _run_call(handler, capability, raw_params, transport, trace_id, rest_body)
    return handler.encode_result(result, transport)


async def _run_call(
    handler: EposHandler,
    capability: Capability,
    raw_params: Mapping[str, Any] | None,
    transport: Channel,
    trace_id: str | None,
    rest_body: Mapping[str, Any] | None = None,
) -> BaseModel:
    trace_id = trace_id or new_trace_id()
    capability = event_row(capability, raw_params)
    if not handler.offers(capability):
        raise EposError(ErrorType.NOT_FOUND, NOT_OFFERED.format(name=capability.name), trace_id)
    try:
        if rest_body is not None:
            check_rest_body(capability, rest_body)
        params = parse_params(capability, raw_params)
    except EposError as exc:
        exc.trace_id = exc.trace_id or trace_id
        raise
    headers = getattr(params, "headers", None)
    ctx = RequestContext.from_headers(capability.name, transport, headers, trace_id)
    if capability.event_type is not None:
        # Both HandleEvent rows share a method; route by the event's own type.
        event_type = getattr(params, "event", None)
        if event_type is not None and str(event_type) not in handler.handled_events:
            raise EposError(ErrorType.NOT_FOUND,
                            NOT_OFFERED.format(name=for_event(str(event_type)).name), trace_id)
    method = getattr(handler, capability.handler_method)
    try:
        result = await method(params, ctx)
    except EposError as exc:
        if exc.trace_id is None:
            exc.trace_id = trace_id
        raise
    except Exception:
        log.exception("handler %s failed (trace %s)", capability.handler_method, trace_id)
        raise EposError.unexpected(trace_id) from None
    if not isinstance(result, capability.result):
        try:
            result = capability.result.model_validate(
                result.model_dump(by_alias=True) if isinstance(result, BaseModel) else result)
        except ValidationError:
            log.error("handler %s returned %s, not %s (trace %s)", capability.handler_method,
                      type(result).__name__, capability.result.__name__, trace_id)
            raise EposError.unexpected(trace_id) from None
    return result
