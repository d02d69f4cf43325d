"""Fully populated contract model instances, one builder per model, shared by the model tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from dojo_epos.contract import models as m

T0 = datetime(2024, 8, 12, 9, 30, tzinfo=UTC)


def gbp(value: int) -> m.Money:
    return m.Money(value=value, currency_code="GBP")


# --- fully populated instances --------------------------------------------------------------------


def modifier() -> m.Modifier:
    return m.Modifier(name="Extra cheese", quantity=2, amount_per_modifier=gbp(50), plu="MOD-1")


def sub_item() -> m.OrderSubItem:
    return m.OrderSubItem(
        amount_per_item=gbp(100), quantity=1, note="no ice", name="Side", plu="SIDE-1",
        modifiers=[modifier()],
    )


def order_item() -> m.OrderItem:
    return m.OrderItem(
        amount_per_item=gbp(1090), quantity=2, note="well done", name="Burger", plu="234",
        sub_items=[sub_item()], modifiers=[modifier()],
    )


def customer() -> m.Customer:
    return m.Customer(id="c1", email_address="a@b.test", phone_number="+44 800 000", name="Ann")


def discount() -> m.Discount:
    return m.Discount(
        name="10% off", affected_plu="234", discount_reference="ref-1", code="SPRING",
        amount_total=gbp(218), amount_percentage=1000,
    )


def tax_line() -> m.TaxLine:
    return m.TaxLine(
        id="VAT", name="VAT", affected_plu="234", amount_percentage=2000, amount_total=gbp(400)
    )


def payment() -> m.Payment:
    return m.Payment(payment_intent_id="pi_1", paid_amount=gbp(1000), tips_amount=gbp(100))


def dine_in_details() -> m.OrderDetails:
    return m.OrderDetails(
        order_type=m.OrderType.DINE_IN,
        dine_in=m.DineInDetails(
            table_id="t1", waiter_id="w1", party_id="p1", reservation_id="r1", ready_at=T0
        ),
    )


def collection_details() -> m.OrderDetails:
    return m.OrderDetails(
        order_type=m.OrderType.COLLECTION,
        collection=m.CollectionDetails(asap=False, collect_at=T0),
    )


def order() -> m.Order:
    return m.Order(
        id="ord_1", items=[order_item()], note="birthday", customer=customer(),
        discounts=[discount()], tax_lines=[tax_line()], status=m.OrderStatus.CONFIRMED,
        created_at=T0, updated_at=T0 + timedelta(minutes=5), total_amount=gbp(2400),
        payments=[payment()], payable=True, paid_amount=gbp(1000), service_charge_amount=gbp(200),
        reference="Table 5", tips_amount=gbp(100), details=dine_in_details(), display_name="T5",
    )


def create_order_request() -> m.CreateOrderRequest:
    return m.CreateOrderRequest(
        items=[order_item()], note="n", customer=customer(), discounts=[discount()],
        total_amount=gbp(2400), tax_lines=[tax_line()], service_charge_amount=gbp(200),
        reference="ref", dojo_order_id="dojo_1", payments=[payment()],
        details=collection_details(), display_name="Ann",
    )


SVG = "<svg xmlns='http://www.w3.org/2000/svg'/>"


def every_bill_line() -> list[m.BillLine]:
    return [
        m.ImageLine(image=m.BillImage(svg_image=SVG, align=m.Align.LEFT)),
        m.LogoLine(logo=m.BillLogo(svg_image=SVG)),
        m.MerchantAddressLine(
            merchant_address=m.BillMerchantAddress(address_lines=["1 Road"], postcode="W2 1DG")
        ),
        m.MerchantEmailAddressLine(
            merchant_email_address=m.BillMerchantEmailAddress(email_address="a@b.test")
        ),
        m.MerchantNameLine(merchant_name=m.BillMerchantName(name="Dojo")),
        m.MerchantPhoneNumberLine(
            merchant_phone_number=m.BillMerchantPhoneNumber(phone_number="01234 567890")
        ),
        m.TextLine(
            text=m.BillText(value="Hi", size=m.Size.HEADER1, align=m.Align.CENTER, bold=True)
        ),
        m.UrlLine(url=m.BillURL(url="https://x.test", show_qr=True, show_url=False)),
        m.HorizontalLineLine(
            horizontal_line=m.BillHorizontalLine(line=m.HorizontalLineStyle.DOUBLE)
        ),
        m.TaxNumberLine(tax_number=m.BillTaxNumber(name="VAT", number="123")),
    ]


def order_bill() -> m.OrderBill:
    lines = every_bill_line()
    return m.OrderBill(
        header=m.BillSection(lines=lines), order=order(), footer=m.BillSection(lines=lines)
    )


def cursor() -> m.Cursor:
    return m.Cursor(limit=20, after="tok")


def deposit() -> m.PartyDeposit:
    return m.PartyDeposit(total_amount=gbp(5000), description="deposit", payment_intent_ids=["pi"])


def party() -> m.Party:
    return m.Party(
        id="party_1", name="Martin", covers=4, table_ids=["t1", "t2"], status="Seated",
        start_time=T0, expected_end_time=T0 + timedelta(hours=2), end_time=T0 + timedelta(hours=1),
        host_notes="h", guest_requests="g", reservation_id="r1", deposit=deposit(),
    )


def create_party_request() -> m.CreatePartyRequest:
    return m.CreatePartyRequest(
        name="Martin", covers=4, table_ids=["t1"], status="Seated", start_time=T0,
        expected_end_time=T0 + timedelta(hours=2), host_notes="h", guest_requests="g",
        reservation_id="r1", deposit=deposit(), dojo_party_id="dp_1", dojo_reservation_id="dr_1",
    )


def update_party_request() -> m.UpdatePartyRequest:
    return m.UpdatePartyRequest(
        dojo_party_id="dp_1", name="Martin", covers=4, table_ids=["t1"], status="Left",
        start_time=T0, expected_end_time=T0 + timedelta(hours=2),
        end_time=T0 + timedelta(hours=1), host_notes="h", guest_requests="g", deposit=deposit(),
    )


def reservation() -> m.Reservation:
    return m.Reservation(
        id="res_1", name="Sasha", covers=3, start_time=T0, end_time=T0 + timedelta(hours=2),
        table_ids=["t1"], host_notes="h", guest_requests="g",
    )


def create_reservation_request() -> m.CreateReservationRequest:
    return m.CreateReservationRequest(
        dojo_reservation_id="dr_1", name="Sasha", covers=3, start_time=T0,
        end_time=T0 + timedelta(hours=2), table_ids=["t1"], host_notes="h", guest_requests="g",
    )


def update_reservation_request() -> m.UpdateReservationRequest:
    return m.UpdateReservationRequest.model_validate(create_reservation_request().to_wire())


def table() -> m.Table:
    return m.Table(id="t1", name="Table 1", max_covers=4, area_id="a1", waiter_ids=["w1"])


def area() -> m.Area:
    return m.Area(id="a1", name="Downstairs", waiter_ids=["w1"])


def event() -> m.Event:
    return m.Event(
        id="evt_1", account_id="acc_1", event=m.EventType.PAYMENT_INTENT_STATUS_UPDATED,
        data=m.PaymentIntentEvent(
            payment_intent_id="pi_1", payment_status=m.PaymentIntentStatus.CAPTURED,
            capture_mode=m.CaptureMode.AUTO,
        ),
        created_at=T0,
    )


def headers() -> m.RequestHeaders:
    return m.RequestHeaders(
        waiter_id="42", dojo_requesting_product="Order&Pay", device_id="tm_1", device_type="Dojo"
    )


def with_headers(params_cls: type[m.WsParams], body: m.WireModel, **extra: Any) -> m.WsParams:
    return params_cls.model_validate({**body.to_wire(), **extra, "headers": headers().to_wire()})


EPOS_INSTANCES: dict[str, Callable[[], m.WireModel]] = {
    "Money": lambda: gbp(100),
    "Customer": customer,
    "Modifier": modifier,
    "OrderSubItem": sub_item,
    "OrderItem": order_item,
    "Discount": discount,
    "TaxLine": tax_line,
    "Payment": payment,
    "DineInDetails": lambda: dine_in_details().dine_in or m.DineInDetails(),
    "CollectionDetails": lambda: collection_details().collection or m.CollectionDetails(),
    "OrderDetails": dine_in_details,
    "CreateOrderRequest": create_order_request,
    "Order": order,
    "SearchDineInDetails": lambda: m.SearchDineInDetails(
        table_id="t", waiter_id="w", party_id="p", reservation_id="r"
    ),
    "Cursor": cursor,
    "SearchOrdersRequest": lambda: m.SearchOrdersRequest(
        dine_in=m.SearchDineInDetails(table_id="t"), payable_only=True, cursor=cursor()
    ),
    "PagedOrdersResponse": lambda: m.PagedOrdersResponse(data=[order()], before="b", after="a"),
    "CreateOrderLockRequest": lambda: m.CreateOrderLockRequest(lock_id="l1", expiry=T0),
    "ExtendOrderLockRequest": lambda: m.ExtendOrderLockRequest(expiry=T0),
    "ExtendOrderLockResponse": m.ExtendOrderLockResponse,
    "BillSection": lambda: m.BillSection(lines=every_bill_line()),
    "OrderBill": order_bill,
    "PaymentWithLockId": lambda: m.PaymentWithLockId(
        payment_intent_id="pi", paid_amount=gbp(1), tips_amount=gbp(1), lock_id="l1"
    ),
    "PartyDeposit": deposit,
    "CreatePartyRequest": create_party_request,
    "Party": party,
    "UpdatePartyRequest": update_party_request,
    "CreateReservationRequest": create_reservation_request,
    "Reservation": reservation,
    "UpdateReservationRequest": update_reservation_request,
    "SearchReservationsRequest": lambda: m.SearchReservationsRequest(
        cursor=cursor(), table_id="t", from_time=T0, to_time=T0 + timedelta(days=1)
    ),
    "PagedReservationsResponse": lambda: m.PagedReservationsResponse(data=[reservation()]),
    "SearchPartiesRequest": lambda: m.SearchPartiesRequest(
        cursor=cursor(), completed_only=True, table_id="t"
    ),
    "PagedPartiesResponse": lambda: m.PagedPartiesResponse(data=[party()], before="b"),
    "SearchTablesRequest": lambda: m.SearchTablesRequest(
        cursor=cursor(), area_id="a", waiter_id="w"
    ),
    "Table": table,
    "PagedTablesResponse": lambda: m.PagedTablesResponse(data=[table()], after="a"),
    "Area": area,
    "EPOSError": lambda: m.EPOSError(
        error_type=m.EPOSErrorType.CONFLICT, debug_message="locked", trace_id="tr"
    ),
    "Event": event,
    "PaymentIntentEvent": lambda: event().data,
    "RequestHeaders": headers,
}

# WS schemas that share a REST name but are the WS params shape (they add orderId / id)
WS_PARAMS_SHAPED = {
    "CreateOrderLockRequest", "ExtendOrderLockRequest", "UpdatePartyRequest",
    "UpdateReservationRequest",
}

# bill payloads: REST schema name, WS schema name, line index in every_bill_line()
BILL_PAYLOADS = [
    ("BillImage", "Image", 0),
    ("BillLogo", "Logo", 1),
    ("BillMerchantAddress", "MerchantAddress", 2),
    ("BillMerchantEmailAddress", "MerchantEmailAddress", 3),
    ("BillMerchantName", "MerchantName", 4),
    ("BillMerchantPhoneNumber", "MerchantPhoneNumber", 5),
    ("BillText", "Text", 6),
    ("BillURL", "Url", 7),
    ("BillHorizontalLine", "HorizontalLineType", 8),
    ("BillTaxNumber", "TaxNumber", 9),
]

ENUMS: dict[str, type[StrEnum]] = {
    "OrderStatus": m.OrderStatus,
    "OrderType": m.OrderType,
    "EPOSErrorType": m.EPOSErrorType,
    "Align": m.Align,
    "Size": m.Size,
    "BillLineType": m.BillLineType,
    "LineType": m.BillLineType,
    "EventType": m.EventType,
    "PaymentIntentStatus": m.PaymentIntentStatus,
    "CaptureMode": m.CaptureMode,
}

# params model per WS method, built fully populated, and the WS schema of its ``params`` object
PARAMS: dict[str, tuple[str, Callable[[], m.WsParams]]] = {
    "SearchOrdersV1": (
        "SearchOrdersWithHeaders",
        lambda: with_headers(m.SearchOrdersParams, EPOS_INSTANCES["SearchOrdersRequest"]()),
    ),
    "GetOrderByIdV1": (
        "OrderIdWithHeaders", lambda: m.OrderIdParams(order_id="o1", headers=headers())
    ),
    "CancelOrderByIdV1": ("OrderIdWithHeaders", lambda: m.OrderIdParams(order_id="o1")),
    "GetOrderBillByIdV1": ("OrderIdWithHeaders", lambda: m.OrderIdParams(order_id="o1")),
    "CreateOrderV1": (
        "CreateOrderWithHeaders", lambda: with_headers(m.CreateOrderParams, create_order_request())
    ),
    "CreateOrderLockV1": (
        "LockOrderWithHeaders",
        lambda: m.CreateOrderLockParams(order_id="o1", lock_id="l1", expiry=T0, headers=headers()),
    ),
    "DeleteOrderLockV1": (
        "DeleteOrderLockWithHeaders", lambda: m.DeleteOrderLockParams(order_id="o1", lock_id="l1")
    ),
    "ExtendOrderLockV1": (
        "ExtendOrderLockWithHeaders",
        lambda: m.ExtendOrderLockParams(order_id="o1", lock_id="l1", expiry=T0),
    ),
    "RecordOrderPaymentByIdV1": (
        "RecordOrderPaymentWithHeaders",
        lambda: with_headers(
            m.RecordOrderPaymentParams, EPOS_INSTANCES["PaymentWithLockId"](), orderId="o1"
        ),
    ),
    "ListAreasV1": ("Headers", lambda: m.ListAreasParams(headers=headers())),
    "SearchTablesV1": (
        "SearchTablesWithHeaders",
        lambda: with_headers(m.SearchTablesParams, EPOS_INSTANCES["SearchTablesRequest"]()),
    ),
    "CreatePartyV1": (
        "CreatePartyWithHeaders", lambda: with_headers(m.CreatePartyParams, create_party_request())
    ),
    "GetPartyByIdV1": ("PartyIdWithHeaders", lambda: m.PartyIdParams(party_id="p1")),
    "DeletePartyByIdV1": ("PartyIdWithHeaders", lambda: m.PartyIdParams(party_id="p1")),
    "UpdatePartyV1": (
        "UpdatePartyWithHeaders",
        lambda: with_headers(m.UpdatePartyParams, update_party_request(), id="p1"),
    ),
    "SearchPartiesV1": (
        "SearchPartiesWithHeaders",
        lambda: with_headers(m.SearchPartiesParams, EPOS_INSTANCES["SearchPartiesRequest"]()),
    ),
    "CreateReservationV1": (
        "CreateReservationWithHeaders",
        lambda: with_headers(m.CreateReservationParams, create_reservation_request()),
    ),
    "GetReservationByIdV1": (
        "ReservationIdWithHeaders", lambda: m.ReservationIdParams(reservation_id="r1")
    ),
    "DeleteReservationByIdV1": (
        "ReservationIdWithHeaders", lambda: m.ReservationIdParams(reservation_id="r1")
    ),
    "UpdateReservationV1": (
        "UpdateReservationWithHeaders",
        lambda: with_headers(m.UpdateReservationParams, update_reservation_request(), id="r1"),
    ),
    "SearchReservationsV1": (
        "SearchReservationsWithHeaders",
        lambda: with_headers(
            m.SearchReservationsParams, EPOS_INSTANCES["SearchReservationsRequest"]()
        ),
    ),
    "HandleEventV1": ("EventWithHeaders", lambda: with_headers(m.HandleEventParams, event())),
}

CAPABILITIES = [
    m.CapabilityResponse(name="GetOrderById", version="v1", updated_at=T0),
    m.CapabilityResponse(name="SearchOrders", version="v1", updated_at=T0),
]
REST_INTEGRATION = m.RestIntegrationResponse(
    url="https://epos.test/dojo/", capabilities=CAPABILITIES,
    auth=m.RestAuthResponse(basic=m.RestBasicAuthResponse(username="u")), created_at=T0,
)
WS_INTEGRATION = m.WsIntegrationResponse(capabilities=CAPABILITIES, created_at=T0)
CAPABILITY_REQUESTS = [m.CapabilityRequest(name="GetOrderById", version="v1")]

API_INSTANCES: dict[str, m.WireModel] = {
    "CapabilityRequest": CAPABILITY_REQUESTS[0],
    "CapabilityResponse": CAPABILITIES[0],
    "RestBasicAuthRequest": m.RestBasicAuthRequest(username="u", password="p"),
    "RestBasicAuthResponse": m.RestBasicAuthResponse(username="u"),
    "RestAuthRequest": m.RestAuthRequest(basic=m.RestBasicAuthRequest(username="u", password="p")),
    "RestAuthResponse": m.RestAuthResponse(basic=m.RestBasicAuthResponse(username="u")),
    "RestIntegrationRequest": m.RestIntegrationRequest(
        url="https://epos.test/dojo/", capabilities=CAPABILITY_REQUESTS,
        auth=m.RestAuthRequest(basic=m.RestBasicAuthRequest(username="u", password="p")),
    ),
    "RestIntegrationResponse": REST_INTEGRATION,
    "WsIntegrationRequest": m.WsIntegrationRequest(capabilities=CAPABILITY_REQUESTS),
    "WsIntegrationResponse": WS_INTEGRATION,
    "DojoManagedIntegrationResponse": m.DojoManagedIntegrationResponse(
        capabilities=CAPABILITIES, created_at=T0
    ),
    "AllIntegrationsResponse": m.AllIntegrationsResponse(
        rest_integrations=[REST_INTEGRATION], ws_integrations=[WS_INTEGRATION],
        dojo_managed_integrations=[
            m.DojoManagedIntegrationResponse(capabilities=CAPABILITIES, created_at=T0)
        ],
    ),
    "EventRequest": m.EventRequest(
        event_type=m.PosEventType.ORDER_UPDATED, event=m.OrderEvent(order_id="o1")
    ),
    "OrderEvent": m.OrderEvent(order_id="o1"),
    "PartyEvent": m.PartyEvent(party_id="p1"),
    "ReservationEvent": m.ReservationEvent(reservation_id="r1"),
}

STEP = m.StepResult(
    name="Check whether GetOrder has been registered", status=m.Status.FAILURE, started_at=T0,
    finished_at=T0, additional_information=["GetOrder method not found"],
)
TESTER_INSTANCES: dict[str, m.WireModel] = {
    "Param": m.Param(name="orderId", type="string", required=True, description="d", default="x"),
    "FlowDescription": m.FlowDescription(
        name="Get Order",
        params=[m.Param(name="orderId", type="string", required=True, description="d")],
    ),
    "RunFlowRequest": m.RunFlowRequest(flow="Get Order", params={"orderId": "o1", "n": 2}),
    "StepResult": STEP,
    "FlowResult": m.FlowResult.model_validate(
        {
            "flowID": "0b6f7a4e-9d1c-4f3a-8e2b-5c6d7e8f9a0b",
            "flowName": "Get Order through EPOS Data API",
            "status": "FAILURE",
            "startedAt": T0,
            "finishedAt": T0,
            "steps": [STEP.to_wire()],
        }
    ),
}

# schemas we deliberately do not model as classes, per document
NOT_MODELLED = {
    "rest": {"BillLine"},  # a union (m.BillLine), checked through BillSection
    "api": {"CapabilityName", "EventType", "RestBasicAuthRequest", "RestBasicAuthResponse"},
}
