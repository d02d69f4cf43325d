"""The capability catalogue against Dojo's published documents, both ways."""

from __future__ import annotations

import re

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import (
    CATALOGUE,
    EVENT_TYPES,
    EXAMPLE_ONLY_ALIASES,
    UnknownCapability,
    by_rpc_method,
    for_event,
    lookup,
    parse_version,
    rest_routes,
)
from tests.specs import api_spec, needs_specs, rest_spec, ws_spec

HTTP_METHODS = {"get", "post", "put", "delete", "patch"}


@needs_specs
def test_every_rest_path_and_method_is_in_the_catalogue_and_vice_versa() -> None:
    """All 21 REST operations of the spec, no more; HandleEvent's route is docs-only (defect #6)."""
    spec_ops = {
        (method.upper(), path)
        for path, item in rest_spec()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    ours = {c.http for c in CATALOGUE if c.in_rest_spec}
    assert ours == spec_ops
    assert len(spec_ops) == 21
    assert {c.http for c in CATALOGUE if not c.in_rest_spec} == {("POST", "/v1/events")}


@needs_specs
def test_operation_ids_match_the_spec_where_it_has_them() -> None:
    """SearchOrders has no operationId in the spec (defect #8); the rest are Dojo's own."""
    for c in CATALOGUE:
        if not c.in_rest_spec:
            continue
        op = rest_spec()["paths"][c.http[1]][c.http[0].lower()]
        assert op.get("operationId", "v1-search-orders") == c.operation_id, c.name


@needs_specs
def test_every_asyncapi_channel_is_in_the_catalogue_and_vice_versa() -> None:
    channels = set(ws_spec()["channels"])
    assert {c.rpc_method for c in CATALOGUE} == channels
    assert len(channels) == 22


@needs_specs
def test_each_channel_description_names_a_capability_that_resolves_to_its_row() -> None:
    """The "Capability: `X`" note on each channel resolves (through aliases) to the same row.

    The UpdateReservation channel's note is spelled "Capbility" (spec defect #20).
    """
    for method, channel in ws_spec()["channels"].items():
        found = re.findall(r"Cap(?:a)?bility:\s*`([^`]+)`", channel.get("description", ""))
        for name in found:
            if name.startswith("HandleEvent"):
                continue
            assert lookup(name).rpc_method == method, (method, name)


@needs_specs
def test_rest_descriptions_name_the_capability_of_their_row() -> None:
    for c in CATALOGUE:
        if not c.in_rest_spec:
            continue
        op = rest_spec()["paths"][c.http[1]][c.http[0].lower()]
        text = " ".join(str(op.get(k, "")) for k in ("summary", "description"))
        for name in re.findall(r"Cap(?:a)?bility:\s*`([^`]+)`", text):
            assert lookup(name) is c, (c.name, name)


@needs_specs
def test_the_platforms_capability_name_list_is_exactly_our_canonical_names() -> None:
    """The Dojo API's CapabilityName description lists the spec (canonical) names."""
    schemas = api_spec()["components"]["schemas"]
    text = str(schemas["CapabilityName"].get("description", ""))
    canonical = {c.name for c in CATALOGUE}
    listed = {n for n in re.findall(r"[A-Z][A-Za-z]+(?::[a-z_.]+)?", text) if n in canonical
              or n.startswith("HandleEvent")}
    assert listed == canonical


def test_the_four_legacy_names_and_their_doc_names_are_one_capability() -> None:
    """Spec defect #1: both generations resolve to one row, and #3: the wire method is a column."""
    pairs = {
        "GetOrderBill": ("GetOrderBillById", "GetOrderBillByIdV1"),
        "RecordOrderPayment": ("RecordOrderPaymentById", "RecordOrderPaymentByIdV1"),
        "UpdatePartyById": ("UpdateParty", "UpdatePartyV1"),
        "UpdateReservationById": ("UpdateReservation", "UpdateReservationV1"),
    }
    for spec_name, (doc_name, method) in pairs.items():
        assert lookup(spec_name) is lookup(doc_name)
        assert lookup(spec_name).rpc_method == method
        assert lookup(spec_name).rpc_method != spec_name + "V1"


def test_example_only_names_are_aliases() -> None:
    """Spec defect #2: GetOrder and RecordPayment appear only in Dojo's examples."""
    assert lookup("GetOrder").name == "GetOrderById"
    assert lookup("RecordPayment").name == "RecordOrderPayment"
    assert EXAMPLE_ONLY_ALIASES == {"GetOrder", "RecordPayment"}


def test_both_handle_event_rows_share_the_wire_method_and_route() -> None:
    rows = [c for c in CATALOGUE if c.event_type]
    assert {c.name for c in rows} == {
        "HandleEvent:payment_intent.created", "HandleEvent:payment_intent.status_updated"}
    assert {c.rpc_method for c in rows} == {"HandleEventV1"}
    assert by_rpc_method("HandleEventV1").handler_method == "handle_event"


def test_handle_event_rows_are_found_by_event_type() -> None:
    assert EVENT_TYPES == ("payment_intent.created", "payment_intent.status_updated")
    for event_type in EVENT_TYPES:
        row = for_event(event_type)
        assert row.event_type == event_type and row.name == f"HandleEvent:{event_type}"
    with pytest.raises(UnknownCapability):
        for_event("payment_intent.refunded")
    # Every event type the models accept has its row (the handler names it when not offered).
    assert {e.value for e in m.EventType} == set(EVENT_TYPES)


def test_only_search_tables_may_answer_an_array_of_pages() -> None:
    """Spec defect #5 is a column of its row, not a name test in the invoker."""
    assert [c.name for c in CATALOGUE if c.array_of_pages] == ["SearchTables"]


def test_there_are_23_capabilities_and_names_are_unique() -> None:
    names = [n for c in CATALOGUE for n in (c.name, *c.aliases)]
    assert len(CATALOGUE) == 23
    assert len(names) == len(set(names))


def test_rest_routes_are_unique() -> None:
    routes = [c.http for c in rest_routes()]
    assert len(routes) == len(set(routes)) == 22


def test_path_fields_name_every_path_parameter() -> None:
    """Every ``{param}`` of a path is filled from a params field (Update*: ``id``, defect #25)."""
    for c in CATALOGUE:
        assert set(c.path_fields) == set(c.path_params), c.name
        fields = {f.alias or n for n, f in c.params.model_fields.items()}
        for wire in c.path_fields.values():
            assert wire in fields, (c.name, wire)
    assert lookup("UpdateParty").path_fields == {"partyId": "id"}


def test_unknown_names_raise() -> None:
    with pytest.raises(UnknownCapability):
        lookup("GetOrders")
    with pytest.raises(UnknownCapability):
        by_rpc_method("GetOrdersV1")


@pytest.mark.parametrize("text", ["v1", "V1", "1", "1.0", "1.0.0", " v1 "])
def test_version_strings_meaning_major_one(text: str) -> None:
    """Spec defect #4: ``v1`` (docs) and ``1.0.0`` (examples) are the same version."""
    assert parse_version(text) == 1


@pytest.mark.parametrize("text", ["", "v", "one", "1.0.0.0", "v1beta", "2x"])
def test_malformed_version_strings_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_version(text)


def test_handler_methods_are_snake_case_of_the_name() -> None:
    assert lookup("GetOrderById").handler_method == "get_order_by_id"
    assert lookup("UpdateParty").handler_method == "update_party_by_id"
    assert lookup("ListAreas").handler_method == "list_areas"
