"""Our own OpenAPI 3.1 document for the REST transport, generated from the catalogue.

Paths, methods and operationIds come from :func:`~dojo_epos.contract.capabilities.rest_routes`;
schemas come from the pydantic models (request bodies in validation mode, answers in serialization
mode). Where it differs from Dojo's document it does so on purpose, each time for a spec defect:
``POST /v1/events`` exists (#6), basic auth is declared (#7), SearchOrders has an operationId (#8)
and SearchTables answers one object, not an array (#5).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from dojo_epos import __version__
from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import Capability, rest_routes

__all__ = ["build_openapi"]

_REF = "#/components/schemas/{model}"
_HEADERS = {
    "waiter-id": "The waiter making the request, if known.",
    "dojo-requesting-product": "The Dojo product making the request, if known.",
    "device-id": "The device making the request, if known.",
    "device-type": "The kind of device making the request, if known.",
}


def build_openapi(
    capabilities: Iterable[Capability] | None = None,
    *,
    title: str = "EPOS Data API (served by dojo-epos)",
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``capabilities`` (default: every REST route of the catalogue)."""
    rows = tuple(capabilities) if capabilities is not None else rest_routes()
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(m.EPOSError, "serialization")]
    for c in rows:
        wanted.append((c.result, "serialization"))
        if c.rest_body is not None:
            wanted.append((c.rest_body, "validation"))
    keys, defs = models_json_schema(wanted, ref_template=_REF, by_alias=True)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))

    error = {"content": {"application/json": {"schema": keys[(m.EPOSError, "serialization")]}}}
    paths: dict[str, dict[str, Any]] = {}
    for c in rows:
        method, path = c.http
        operation: dict[str, Any] = {
            "operationId": c.operation_id,
            "summary": c.name,
            "description": _description(c),
            "parameters": [
                *({"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in c.path_params),
                *({"name": h, "in": "header", "required": False, "schema": {"type": "string"},
                   "description": text} for h, text in _HEADERS.items()),
            ],
            "responses": {
                "200": {
                    "description": "Success.",
                    "content": {"application/json": {"schema": keys[(c.result, "serialization")]}},
                },
                "4XX": {"description": "The request cannot be served.", **error},
                "5XX": {"description": "The EPOS failed; the trace id finds the log line.", **error},
            },
        }
        if c.rest_body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": keys[(c.rest_body, "validation")]}},
            }
        paths.setdefault(path, {})[method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": __version__,
            "description": "Dojo's EPOS Data API contract as this EPOS serves it. Generated from "
                           "the dojo-epos capability catalogue.",
        },
        "security": [{"basicAuth": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
        },
    }


def _description(c: Capability) -> str:
    products = ", ".join(sorted(p.value for p in c.products))
    names = ", ".join((c.name, *c.aliases))
    return f"Capability {names}; JSON-RPC method {c.rpc_method}; used by {products}."
