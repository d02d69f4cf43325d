"""``GET /openapi.json``: the platform API's own document, from the routes it serves (issue 20)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.responses import JSONResponse
from starlette.routing import Route

from dojo_epos.contract.platform_api import PLATFORM_API
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.http.openapi import UNDESCRIBED, api_routes, build_platform_openapi


@pytest.fixture
async def served(tmp_path: Any) -> Any:
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'p.db'}"))
    app = build_platform_app(platform=platform)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as client:
        response = await client.get("/openapi.json")
        yield app, response
    await platform.close()


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


async def test_the_platform_serves_a_valid_openapi_document_without_a_key(served: Any) -> None:
    """No API key needed; openapi-spec-validator accepts it as OpenAPI 3.1."""
    _, response = served
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    validate(document)


async def test_every_served_route_is_documented_and_nothing_else(served: Any) -> None:
    app, response = served
    routes = {(method, path) for method, path, _ in api_routes(app.routes)}
    assert {("GET", "/openapi.json"), ("PUT", "/epos/integrations/rest"),
            ("POST", "/epos-tester-tool/faults")} <= routes
    assert _operations(response.json()) == routes


async def test_every_served_route_has_a_row_and_every_row_a_route(served: Any) -> None:
    """A route added without a row in contract.platform_api is listed but undescribed: fail."""
    app, response = served
    undescribed = sorted(f"{method.upper()} {path}" for path, item in response.json()["paths"].items()
                         for method, op in item.items() if op.get(UNDESCRIBED))
    assert undescribed == [], "describe these in contract/platform_api.py"
    rows = {(row.method, row.path) for row in PLATFORM_API}
    assert rows == {(method, path) for method, path, _ in api_routes(app.routes)}


def test_a_route_without_a_row_is_still_documented_from_its_docstring() -> None:
    async def mirror(request: Any) -> JSONResponse:
        """Answer the body back.

        More words."""
        return JSONResponse({})

    document = build_platform_openapi([Route("/things/{thingId}/mirror", mirror,
                                             methods=["POST"])])
    operation = document["paths"]["/things/{thingId}/mirror"]["post"]
    assert operation[UNDESCRIBED] is True
    assert operation["summary"] == "Answer the body back."
    assert operation["tags"] == ["things"]
    assert [p["name"] for p in operation["parameters"]] == ["thingId"]
    validate(document)


async def test_the_dashboard_and_the_socket_are_left_out(served: Any) -> None:
    paths = served[1].json()["paths"]
    assert not any(path.startswith("/dashboard") for path in paths)
    assert "/epos" not in paths and "/" not in paths


async def test_operations_name_their_models_and_error_shapes(served: Any) -> None:
    document = served[1].json()
    rest = document["paths"]["/epos/integrations/rest"]["put"]
    body = rest["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/RestIntegrationRequest"}
    assert rest["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    refund = document["paths"]["/payment-intents/{paymentIntentId}/refunds"]["post"]
    error = refund["responses"]["4XX"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Problem"}
    assert {p["name"] for p in refund["parameters"]} >= {"paymentIntentId", "version",
                                                         "IdempotencyKey"}
    assert document["paths"]["/healthz"]["get"]["security"] == []
    secrets = document["components"]["schemas"]["RestBasicAuthRequest"]
    assert "password" in secrets["properties"]  # the request takes it ...
    answer = document["components"]["schemas"]["RestBasicAuthResponse"]
    assert "password" not in answer["properties"]  # ... the answer never has it
