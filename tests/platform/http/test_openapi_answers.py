"""The platform's OpenAPI document tells the truth: each example call, made in-process in the
collection's order against a platform calling the reference EPOS, answers the status its row says
and a body its documented response schema accepts; rows that follow Dojo's documents are in them,
rows marked ``ours`` are not, and their example bodies are valid by Dojo's request schemas."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from dojo_epos.contract.platform_api import PLATFORM_API, Example, Operation
from dojo_epos.epos.reference import open_reference
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.export.collections import PLATFORM_VARIABLES
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from tests.specs import API_SPEC, TESTER_SPEC, load, needs_specs, validator_for

PAYMENTS_SPEC = "dojo-api-payments-subset.openapi.json"
TESTER_BASE = "/epos-tester-tool"
_DOC = "urn:dojo-epos:platform-openapi"


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    epos = await open_reference(f"sqlite:///{tmp_path / 'epos.db'}")
    await seed_database(epos.db)
    epos_app = build_rest_app(epos, username="dojo", password="pw-answers-1")
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'p.db'}",
                                         http_transport=httpx.ASGITransport(app=epos_app),
                                         ping_interval=None))
    await platform.start()
    app = build_platform_app(platform=platform)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as client:
        yield client
    await platform.close()
    await epos.aclose()


def _fill(value: Any, variables: Mapping[str, str]) -> Any:
    text = json.dumps(value)
    return json.loads(re.sub(r"{{(\w+)}}", lambda m: variables[m.group(1)], text))


def _pick(value: Any, path: str) -> Any:
    for key in path.split(".") if path else ():
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


def _request(row: Operation, example: Example, variables: Mapping[str, str]) -> dict[str, Any]:
    path = row.path
    for name, raw in example.path.items():
        path = path.replace("{" + name + "}", _fill(raw, variables))
    headers = {"Authorization": f"Basic {variables['apiKey']}",
               "software-house-id": variables["softwareHouseId"]} if row.auth else {}
    request: dict[str, Any] = {"method": row.method, "url": path,
                               "headers": {**headers, **_fill(dict(example.headers), variables)},
                               "params": _fill(dict(example.query), variables)}
    if example.body is not None:
        request["json"] = _fill(example.body, variables)
    return request


def _answer_schema(document: dict[str, Any], path: str, method: str, status: int) -> str | None:
    responses = document["paths"][path][method.lower()]["responses"]
    key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
    if "content" not in responses[key]:
        return None
    escaped = path.replace("~", "~0").replace("/", "~1")
    return (f"{_DOC}#/paths/{escaped}/{method.lower()}/responses/{key}/content/"
            "application~1json/schema")


async def test_every_example_answers_as_the_document_says(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    registry: Registry[Any] = Registry().with_resource(_DOC, DRAFT202012.create_resource(document))
    variables = {**PLATFORM_VARIABLES, "eposUrl": "http://epos.test", "eposPassword": "pw-answers-1"}
    checked = 0
    for row in PLATFORM_API:
        if row.method.lower() not in document["paths"].get(row.path, {}):
            continue  # not served by this platform (yet)
        for example in row.examples:
            response = await http.request(**_request(row, example, variables))
            where = f"{row.method} {row.path}"
            assert response.status_code == example.expect, (where, response.text)
            ref = _answer_schema(document, row.path, row.method, response.status_code)
            if ref is None:
                assert response.content == b"", where
            else:
                validator = jsonschema.Draft202012Validator({"$ref": ref}, registry=registry)
                error = jsonschema.exceptions.best_match(validator.iter_errors(response.json()))
                assert error is None, (where, error and error.message)
            for variable, at in example.capture.items():
                variables[variable] = _pick(response.json(), at)
            checked += 1
    assert checked >= 29


def _dojo_operation(row: Operation) -> dict[str, Any] | None:
    """Dojo's own description of ``row``'s route, if Dojo documents it."""
    if row.path.startswith(TESTER_BASE):
        spec, path = load(TESTER_SPEC), row.path[len(TESTER_BASE):]
    elif row.path.startswith("/epos/"):
        spec, path = load(API_SPEC), row.path
    else:
        spec, path = load(PAYMENTS_SPEC), row.path
    operation = spec["paths"].get(path, {}).get(row.method.lower())
    return {"spec": spec, **operation} if isinstance(operation, dict) else None


@needs_specs
@pytest.mark.parametrize("row", PLATFORM_API, ids=lambda r: r.operation_id)
def test_rows_not_ours_are_dojos_and_their_bodies_are_valid_by_dojos_schemas(row: Operation) -> None:
    found = _dojo_operation(row)
    assert (found is None) == row.ours, f"{row.method} {row.path}: ours={row.ours}"
    if found is None or row.body is None:
        return
    schema = found["requestBody"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[1]
    variables = {**PLATFORM_VARIABLES, "eposPassword": "pw"}
    for example in row.examples:
        validator = validator_for(found["spec"], name)
        error = jsonschema.exceptions.best_match(validator.iter_errors(_fill(example.body,
                                                                              variables)))
        assert error is None, (row.operation_id, error and error.message)
