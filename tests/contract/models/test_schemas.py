"""Our models' output against the schemas of Dojo's four published documents."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from dojo_epos.contract import models as m
from tests.contract.models.factories import (
    API_INSTANCES,
    BILL_PAYLOADS,
    ENUMS,
    EPOS_INSTANCES,
    NOT_MODELLED,
    PARAMS,
    TESTER_INSTANCES,
    WS_PARAMS_SHAPED,
    area,
    every_bill_line,
)
from tests.specs import (
    api_spec,
    needs_specs,
    rest_spec,
    schema_names,
    tester_spec,
    validate,
    ws_spec,
)


@needs_specs
@pytest.mark.parametrize("name", sorted(EPOS_INSTANCES))
def test_epos_model_output_validates_against_rest_and_ws_schemas(name: str) -> None:
    """A fully populated model serializes to JSON that both EPOS specs accept."""
    instance = EPOS_INSTANCES[name]()
    checked = 0
    transports: tuple[tuple[dict[str, Any], m.Transport], ...] = (
        (rest_spec(), "rest"), (ws_spec(), "ws")
    )
    for spec, transport in transports:
        if transport == "ws" and name in WS_PARAMS_SHAPED:
            continue  # the WS schema of that name is a params object: see the params test
        if name in schema_names(spec):
            validate(instance.to_wire(transport), spec, name)
            checked += 1
    assert checked, f"{name} is in neither spec"


@needs_specs
@pytest.mark.parametrize(("rest_name", "ws_name", "index"), BILL_PAYLOADS)
def test_every_bill_line_kind_validates_in_both_transports(
    rest_name: str, ws_name: str, index: int
) -> None:
    """Each bill line and its payload validate against REST and WS schemas in their own casing."""
    line = every_bill_line()[index]
    payload = next(v for k, v in line.to_wire("rest").items() if k != "lineType")
    validate(payload, rest_spec(), rest_name)
    validate(line.to_wire("rest"), rest_spec(), "BillLine")
    ws_payload = next(v for k, v in line.to_wire("ws").items() if k != "lineType")
    validate(ws_payload, ws_spec(), ws_name)
    validate(line.to_wire("ws"), ws_spec(), "BillLine")


@needs_specs
def test_url_flags_use_the_casing_of_each_transport() -> None:
    """spec defect #13: REST emits showQr/showUrl, WS showQR/showURL; each fails the other spec."""
    url = m.BillURL(url="u", show_qr=True, show_url=True)
    assert url.to_wire("rest") == {"url": "u", "showQr": True, "showUrl": True}
    assert url.to_wire("ws") == {"url": "u", "showQR": True, "showURL": True}
    assert m.dump(url, "ws") == url.model_dump(
        mode="json", by_alias=True, exclude_none=True, context={"transport": "ws"}
    )
    strict = {**ws_spec()["components"]["schemas"]["Url"], "additionalProperties": False}
    jsonschema.validate(url.to_wire("ws"), strict)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(url.to_wire("rest"), strict)


@needs_specs
@pytest.mark.parametrize("name", sorted(ENUMS))
def test_enums_match_the_spec_enums_exactly(name: str) -> None:
    """Each StrEnum has exactly the values its schema lists, in every document that has it."""
    found = False
    for spec in (rest_spec(), ws_spec()):
        schema = spec["components"]["schemas"].get(name)
        if schema is not None:
            found = True
            assert {member.value for member in ENUMS[name]} == set(schema["enum"])
    assert found


@needs_specs
def test_every_rest_schema_is_covered() -> None:
    """Every REST component schema is checked by a test above, or listed as not modelled."""
    covered = set(EPOS_INSTANCES) | {r for r, _, _ in BILL_PAYLOADS} | set(ENUMS)
    missing = set(schema_names(rest_spec())) - covered - NOT_MODELLED["rest"]
    assert not missing


@needs_specs
@pytest.mark.parametrize("method", sorted(PARAMS))
def test_params_validate_against_ws_params_and_request_envelope(method: str) -> None:
    """Every params model, serialized for WS, matches its ``*WithHeaders`` and request schema."""
    schema_name, build = PARAMS[method]
    params = build().to_wire("ws")
    assert "headers" in params
    validate(params, ws_spec(), schema_name)
    channel = ws_spec()["channels"][method]
    request_schema = channel["subscribe"]["message"]["payload"]["$ref"].rsplit("/", 1)[-1]
    envelope = {"jsonrpc": "2.0", "id": "req-1", "method": method, "params": params}
    validate(envelope, ws_spec(), request_schema)


@needs_specs
def test_every_ws_method_has_a_params_model() -> None:
    """The params table covers every WS channel."""
    assert set(PARAMS) == set(ws_spec()["channels"])


@needs_specs
def test_empty_result_matches_ws_empty_result_schema() -> None:
    """EmptyResult and ExtendOrderLockResponse serialize to the {} the specs require."""
    envelope = {"jsonrpc": "2.0", "id": "1", "method": "ExtendOrderLockV1"}
    validate({**envelope, "result": m.EmptyResult().to_wire("ws")}, ws_spec(), "EmptyResult")
    validate(m.ExtendOrderLockResponse().to_wire(), rest_spec(), "ExtendOrderLockResponse")


@needs_specs
def test_area_list_validates_as_ws_areas_result() -> None:
    """AreaList serializes to the plain array ListAreas returns."""
    areas = m.to_wire(m.AreaList([area()]), "ws")
    validate({"result": areas}, ws_spec(), "AreasResult")


@needs_specs
@pytest.mark.parametrize("name", sorted(API_INSTANCES))
def test_platform_models_validate_against_dojo_api_schemas(name: str) -> None:
    """Platform request/response models match the Dojo API subset."""
    validate(API_INSTANCES[name].to_wire(), api_spec(), name)


@needs_specs
def test_every_api_schema_is_covered() -> None:
    """Every Dojo API component schema is checked above or deliberately not a class."""
    missing = set(schema_names(api_spec())) - set(API_INSTANCES) - NOT_MODELLED["api"]
    assert not missing


@needs_specs
@pytest.mark.parametrize("name", sorted(TESTER_INSTANCES))
def test_tester_models_validate_against_tester_schemas(name: str) -> None:
    """Tester models match the EPOS tester tool spec."""
    validate(TESTER_INSTANCES[name].to_wire(), tester_spec(), name)
    assert set(schema_names(tester_spec())) == set(TESTER_INSTANCES) | {"Status"}
