"""EposError and its mapping to REST statuses and JSON-RPC error objects, both ways."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from dojo_epos.contract.errors import (
    HTTP_STATUS,
    EposError,
    ErrorType,
    error_type_for_status,
    invalid_request_from,
)


@pytest.mark.parametrize(
    ("error_type", "status"),
    [("NotFound", 404), ("InvalidRequest", 400), ("Conflict", 409), ("UnexpectedError", 500)],
)
def test_status_mapping_both_ways(error_type: str, status: int) -> None:
    err = EposError(error_type, "x")
    assert err.http_status == status
    assert error_type_for_status(status) is ErrorType(error_type)


def test_other_statuses_map_to_a_sensible_type() -> None:
    assert error_type_for_status(401) is ErrorType.INVALID_REQUEST
    assert error_type_for_status(502) is ErrorType.UNEXPECTED_ERROR
    assert set(HTTP_STATUS) == set(ErrorType)


def test_wire_form_round_trips() -> None:
    err = EposError(ErrorType.CONFLICT, "locked by waiter 7 until 12:00", "t1")
    assert err.to_wire() == {
        "errorType": "Conflict", "debugMessage": "locked by waiter 7 until 12:00", "traceId": "t1"}
    assert EposError.from_wire(err.to_wire()) == err


def test_optional_members_are_left_out() -> None:
    assert EposError(ErrorType.NOT_FOUND).to_wire() == {"errorType": "NotFound"}


@pytest.mark.parametrize("body", [None, "oops", {"errorType": "Teapot"}, [1], {"code": -1}])
def test_a_foreign_error_body_is_read_without_raising(body: object) -> None:
    err = EposError.from_wire(body, status=409)
    assert err.error_type is ErrorType.CONFLICT
    assert err.debug_message and "not an EPOSError" in err.debug_message


def test_unexpected_errors_carry_only_the_trace_id() -> None:
    err = EposError.unexpected("abc")
    assert err.trace_id == "abc"
    assert err.debug_message == "internal error (trace abc)"


def test_validation_errors_name_the_field() -> None:
    class Money(BaseModel):
        value: int

    class Body(BaseModel):
        paidAmount: Money

    with pytest.raises(ValidationError) as info:
        Body.model_validate({"paidAmount": {"value": "x"}})
    err = invalid_request_from(info.value)
    assert err.error_type is ErrorType.INVALID_REQUEST
    assert err.debug_message is not None and err.debug_message.startswith("paidAmount.value:")
