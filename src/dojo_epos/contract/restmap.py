"""How one call's params become a REST request, exactly as Dojo's platform would send it.

A capability's params are one object (the WebSocket ``params``): path parameters, body fields and
``headers`` together. On REST the same call is split three ways: path parameters go into the URL
(through :attr:`Capability.path_fields`, because Update* names the entity ``id``: spec defect #25),
the four request headers become HTTP headers, and whatever remains is the JSON body, for routes that
take one. This module does that split, purely, so the platform's invoker and
:mod:`dojo_epos.testing` build identical requests; the REST app does the inverse, and checks a
body's one REST-only rule with :func:`check_rest_body`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import Capability
from dojo_epos.contract.errors import EposError, ErrorType, invalid_request_from, new_trace_id

__all__ = ["RestRequest", "check_rest_body", "rest_request_for"]


class RestRequest(NamedTuple):
    """A REST call ready to send: method, path (no base URL), HTTP headers and JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    """The JSON body, or ``None`` for routes without one (GET and DELETE)."""


def rest_request_for(
    capability: Capability, params: Mapping[str, Any] | BaseModel | None
) -> RestRequest:
    """Split one call's params into the REST request for ``capability``.

    ``params`` is the wire params object (camelCase, as a dict) or a params model (serialized with
    REST casing). Raises :class:`EposError` InvalidRequest, naming the field, when a path parameter
    is missing, empty or not a string (the REST spec types every path parameter ``string``; an
    integer id is refused, not turned into text), or when ``headers`` is malformed: such a call
    cannot be expressed as a URL, so it is refused before anything is sent, with a fresh trace id
    and the message the WebSocket side would give for the same params.
    """
    if isinstance(params, BaseModel):
        wire = m.to_wire(params, m.REST)
        if not isinstance(wire, dict):
            raise TypeError(f"{type(params).__name__} does not serialize to a JSON object")
        data = wire
    else:
        data = dict(params or {})
    headers = _http_headers(data.pop("headers", None))

    path = capability.http[1]
    for path_param, wire_field in capability.path_fields.items():
        value = data.pop(wire_field, None)
        if value is None:
            raise EposError(ErrorType.INVALID_REQUEST, f"{wire_field}: Field required",
                            new_trace_id())
        if not isinstance(value, str):
            raise EposError(ErrorType.INVALID_REQUEST,
                            f"{wire_field}: Input should be a valid string", new_trace_id())
        if not value:  # an empty segment would name another route (/v1/orders/ + "")
            raise EposError(ErrorType.INVALID_REQUEST,
                            f"{wire_field}: String should have at least 1 character", new_trace_id())
        try:
            # Everything is escaped, "/" included, so an id can never reach another route.
            quoted = quote(value, safe="")
        except UnicodeEncodeError:  # a lone surrogate: valid in JSON, not expressible in a URL
            raise EposError(ErrorType.INVALID_REQUEST,
                            f"{wire_field}: String should be Unicode text (a lone surrogate is not)",
                            new_trace_id()) from None
        path = path.replace("{" + path_param + "}", quoted)

    body = data if capability.rest_body is not None else None
    return RestRequest(capability.http[0], path, headers, body)


def _http_headers(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, m.RequestHeaders):
        return raw.to_http()
    try:
        return m.RequestHeaders.model_validate(raw).to_http()
    except ValidationError as exc:
        error = invalid_request_from(exc, prefix="headers.")
        error.trace_id = new_trace_id()
        raise error from None


def check_rest_body(capability: Capability, body: Mapping[str, Any]) -> None:
    """Refuse what a REST body may not hold although the same call's params could.

    Every REST body model's fields are fields of the capability's params model, with the same
    types and constraints (the contract tests hold the catalogue to that), so validating the
    params validates the body's values too; what is left is ``additionalProperties: false`` (the
    lock bodies), which the WebSocket params do not have. Raises :class:`EposError`
    InvalidRequest naming the first field the body may not carry.
    """
    model = capability.rest_body
    if model is None or model.model_config.get("extra") != "forbid":
        return
    allowed = {name for name in model.model_fields}
    allowed |= {f.alias for f in model.model_fields.values() if f.alias}
    for key in body:
        if key not in allowed:
            raise EposError(ErrorType.INVALID_REQUEST, f"{key}: Extra inputs are not permitted")
