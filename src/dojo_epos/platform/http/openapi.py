"""The platform API's own OpenAPI 3.1 document, built from the routes it serves.

Paths and methods are read from the Starlette routes (so a route added anywhere in
:mod:`dojo_epos.platform.http` is in the document without anyone writing it down); what each takes
and answers comes from its row of :data:`~dojo_epos.contract.platform_api.PLATFORM_API` and the
pydantic models there. A route without a row is still listed, from its path and its endpoint's
docstring, and marked ``x-dojo-epos-undescribed`` (a test fails on it). The dashboard (HTML, under
``/dashboard``) and the WebSocket at ``/epos`` are left out: neither is an HTTP API.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dojo_epos import __version__
from dojo_epos.contract import payments as p
from dojo_epos.contract.platform_api import ApiErrorBody, Operation, Param, operation_for

__all__ = ["UNDESCRIBED", "api_routes", "build_platform_openapi", "openapi_route"]

#: The extension marking an operation that has no row in the operations table.
UNDESCRIBED = "x-dojo-epos-undescribed"
_REF = "#/components/schemas/{model}"
_LEFT_OUT = re.compile(r"^/(dashboard(/|$)|$)")


def api_routes(routes: Iterable[BaseRoute]) -> list[tuple[str, str, Route]]:
    """``(method, path, route)`` of every HTTP API route in ``routes`` (no dashboard, no HEAD)."""
    found = []
    for route in routes:
        if not isinstance(route, Route) or _LEFT_OUT.match(route.path):
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, route.path, route))
    return found


def build_platform_openapi(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the platform API served by ``routes``."""
    served = api_routes(routes)
    rows = [row for method, path, _ in served if (row := operation_for(method, path))]
    schemas = _Schemas(rows)
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, None] = {}
    for method, path, route in served:
        row = operation_for(method, path)
        operation = _operation(row, schemas) if row else _undescribed(method, path, route)
        tags.update(dict.fromkeys(operation.get("tags", ())))
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dojo-epos local platform API",
            "version": __version__,
            "description": "The local stand-in for Dojo's platform: the capability registry, "
                           "events, the EPOS tester tool (with single calls), the payment "
                           "intents and webhooks an EPOS calls, and what else the local platform "
                           "adds. Generated from the routes it serves. Not here: the dashboard "
                           "(/dashboard) and the EPOS WebSocket (/epos), which take the same "
                           "Authorization and software-house-id headers.",
        },
        "tags": [{"name": name} for name in tags],
        "security": [{"apiKey": [], "softwareHouse": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.defs,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "Authorization",
                           "description": "Basic <API key as is>, e.g. Basic sk_sandbox_..."},
                "softwareHouse": {"type": "apiKey", "in": "header", "name": "software-house-id",
                                  "description": "Your software house id: with the key, it "
                                                 "names the account."},
            },
        },
    }


def openapi_route(routes: Iterable[BaseRoute], path: str = "/openapi.json") -> Route:
    """``GET /openapi.json``: the document of ``routes`` and of itself, built on first request."""
    served = list(routes)
    built: list[dict[str, Any]] = []

    async def openapi_json(request: Request) -> Response:
        """This document."""
        if not built:
            built.append(build_platform_openapi([*served, route]))
        return JSONResponse(built[0])

    route = Route(path, openapi_json, methods=["GET"])
    return route


class _Schemas:
    """Component schemas of every model the operations name, generated together (so two models
    of one name get two names), and the schema of any answer type in terms of them."""

    def __init__(self, rows: Iterable[Operation]) -> None:
        wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
        for row in rows:
            error_model = p.Problem if row.errors == "problem" else ApiErrorBody
            wanted[(error_model, "serialization")] = None
            if (model := _model_in(row.result)) is not None:
                wanted[(model, "serialization")] = None
            if row.body is not None:
                wanted[(row.body, "validation")] = None
        self.keys, defs = models_json_schema(list(wanted), ref_template=_REF, by_alias=True)
        self.defs: dict[str, Any] = dict(defs.get("$defs", {}))

    def of(self, kind: Any, mode: JsonSchemaMode) -> dict[str, Any]:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return dict(self.keys[(kind, mode)])
        model = _model_in(kind)
        if model is not None:  # list[Model]
            return {"type": "array", "items": dict(self.keys[(model, mode)])}
        return TypeAdapter(kind).json_schema(mode=mode)


def _model_in(kind: Any) -> type[BaseModel] | None:
    """The model ``kind`` is or lists (``Model``, ``list[Model]``), else None."""
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return kind
    args = get_args(kind)
    if get_origin(kind) is list and args and isinstance(args[0], type) \
            and issubclass(args[0], BaseModel):
        return args[0]
    return None


def _param(where: str, param: Param) -> dict[str, Any]:
    return {"name": param.name, "in": where, "required": param.required,
            "description": param.description, "schema": {"type": param.type}}


def _operation(row: Operation, schemas: _Schemas) -> dict[str, Any]:
    parameters = [
        *({"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
          for name in re.findall(r"{(\w+)}", row.path)),
        *(_param("query", q) for q in row.query),
        *(_param("header", h) for h in row.headers),
    ]
    success: dict[str, Any] = {"description": "Success."}
    if row.result is not None:
        success["content"] = {"application/json": {"schema": schemas.of(row.result,
                                                                        "serialization")}}
    error_model = p.Problem if row.errors == "problem" else ApiErrorBody
    error = {"content": {"application/json": {"schema": schemas.of(error_model,
                                                                   "serialization")}}}
    operation: dict[str, Any] = {
        "operationId": row.operation_id,
        "summary": row.summary,
        "tags": [row.tag],
        "parameters": parameters,
        "responses": {
            str(row.status): success,
            "4XX": {"description": "Refused: bad input, a refused key, an unknown id.", **error},
        },
    }
    if row.description:
        operation["description"] = row.description
    if row.ours:
        operation["x-dojo-epos-extension"] = True
    if not row.auth:
        operation["security"] = []
    if row.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": schemas.of(row.body, "validation")}}}
    return operation


def _undescribed(method: str, path: str, route: Route) -> dict[str, Any]:
    doc = inspect.getdoc(route.endpoint) or f"{method} {path}"
    segment = next((s for s in path.split("/") if s and "{" not in s), "platform")
    return {
        "operationId": f"{method.lower()}{re.sub(r'[^A-Za-z0-9]+', '-', path)}".rstrip("-"),
        "summary": doc.splitlines()[0],
        "tags": [segment],
        "parameters": [{"name": name, "in": "path", "required": True,
                        "schema": {"type": "string"}} for name in re.findall(r"{(\w+)}", path)],
        "responses": {"default": {"description": "Not described yet.",
                                  "content": {"application/json": {"schema": {}}}}},
        UNDESCRIBED: True,
    }
