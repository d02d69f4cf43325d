"""The exported Postman collections: shape, coverage, and bodies valid by Dojo's schemas."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from dojo_epos.contract.capabilities import CATALOGUE, lookup
from dojo_epos.contract.examples import EPOS_SCENARIO, SAMPLE_VALUES
from dojo_epos.contract.platform_api import PLATFORM_API
from dojo_epos.export import EPOS_FILE, PLATFORM_FILE, platform_document, write_postman
from dojo_epos.export.collections import (
    PLATFORM_VARIABLES,
    answer_schema,
    epos_collection,
    platform_collection,
)
from dojo_epos.export.postman import SCHEMA
from tests.specs import SPECS_DIR, needs_specs, rest_spec, validate, ws_spec


@cache
def _platform() -> dict[str, Any]:
    return platform_collection(platform_document())


@cache
def _epos_named() -> dict[str, Any]:
    return epos_collection(rest_spec())


def _requests(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for item in items:
        found += _requests(item["item"]) if "item" in item else [item]
    return found


def _fill(text: str) -> str:
    values = {**SAMPLE_VALUES, **PLATFORM_VARIABLES, "eposPassword": "pw"}
    return re.sub(r"{{(\w+)}}", lambda m: values[m.group(1)], text)


def test_both_collections_are_v2_1_and_every_request_tests_its_status() -> None:
    for document in (_platform(), epos_collection()):
        assert document["info"]["schema"] == SCHEMA
        requests = _requests(document["item"])
        assert requests
        for item in requests:
            test = next(e for e in item["event"] if e["listen"] == "test")["script"]["exec"]
            assert re.search(r"pm\.response\.to\.have\.status\(\d{3}\)", "\n".join(test)), item
            assert item["request"]["url"]["raw"].startswith("{{baseUrl}}/")


def test_the_platform_collection_has_every_example_and_the_key_as_variables() -> None:
    collection = _platform()
    variables = {v["key"] for v in collection["variable"]}
    assert {"apiKey", "softwareHouseId", "baseUrl", "eposUrl", "eposPassword"} <= variables
    requests = _requests(collection["item"])
    assert len(requests) == sum(len(row.examples) for row in PLATFORM_API) >= 33
    examples = [(r, e) for r in PLATFORM_API for e in r.examples]
    for item, (row, example) in zip(requests, examples, strict=True):
        test = "\n".join(item["event"][-1]["script"]["exec"])
        # The answer's shape is checked against the document, wherever it has a body.
        assert ("pm.response.to.have.jsonSchema(schema)" in test) == (example.expect != 204), item
        headers = {h["key"]: h["value"] for h in item["request"]["header"]}
        assert item["request"]["method"] == row.method
        assert (headers.get("Authorization") == "Basic {{apiKey}}") == row.auth
        assert (headers.get("software-house-id") == "{{softwareHouseId}}") == row.auth
    assert "sk_" not in json.dumps(collection).replace(
        "sk_sandbox_postman_0000000000000000", ""), "only the placeholder key is written"


def test_the_platform_examples_validate_against_their_own_request_models() -> None:
    for row in PLATFORM_API:
        for example in row.examples:
            assert (example.body is not None) == (row.body is not None), row.operation_id
            if row.body is not None:
                row.body.model_validate(json.loads(_fill(json.dumps(example.body))))


def test_the_epos_collection_covers_every_capability_with_basic_auth() -> None:
    collection = epos_collection()
    assert collection["auth"]["type"] == "basic"
    assert {v["key"] for v in collection["variable"]} >= {"baseUrl", "username", "password"}
    covered = {lookup(example.capability).name for example in EPOS_SCENARIO}
    assert covered == {c.name for c in CATALOGUE if c.event_type != "payment_intent.created"}
    requests = _requests(collection["item"])
    assert len(requests) == len(EPOS_SCENARIO)
    for item, example in zip(requests, EPOS_SCENARIO, strict=True):
        test = "\n".join(item["event"][-1]["script"]["exec"])
        # Every answer is also checked for its shape: the result model's, or an EPOSError.
        assert "pm.response.to.have.jsonSchema(schema)" in test, item
        assert ("EPOSError" in test) == (example.expect >= 400), item
    # The first request starts a run (a fresh runId); every request computes the times.
    assert "runId" in "".join(requests[0]["event"][0]["script"]["exec"])
    assert "lockExpiry" in "".join(collection["event"][0]["script"]["exec"])


def test_the_answer_schema_takes_an_array_of_table_pages_too() -> None:
    """spec defect #5: SearchTables' answer may come as an array of pages."""
    import jsonschema  # type: ignore[import-untyped]

    schema = answer_schema(lookup("SearchTables"))
    page = {"data": [{"id": "T1", "name": "Table 1"}]}
    jsonschema.Draft202012Validator(schema).validate(page)
    jsonschema.Draft202012Validator(schema).validate([page, page])
    assert not jsonschema.Draft202012Validator(schema).is_valid({"data": [{"id": 1}]})


def _spec_body_schema(method: str, template: str) -> tuple[dict[str, Any], str]:
    if template == "/v1/events":  # spec defect #6: only the WebSocket document has HandleEvent
        return ws_spec(), "Event"
    operation = rest_spec()["paths"][template][method.lower()]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return rest_spec(), ref.rsplit("/", 1)[1]


@needs_specs
@pytest.mark.parametrize("index", range(len(EPOS_SCENARIO)),
                         ids=[e.name or e.capability for e in EPOS_SCENARIO])
def test_every_epos_body_validates_against_dojos_schema(index: int) -> None:
    """With the variables filled in, each request body is valid by Dojo's published schema."""
    example = EPOS_SCENARIO[index]
    capability = lookup(example.capability)
    item = _requests(_epos_named()["item"])[index]
    body = item["request"].get("body")
    if capability.rest_body is None:
        assert body is None
        return
    spec, name = _spec_body_schema(*capability.http)
    validate(json.loads(_fill(body["raw"])), spec, name)


@needs_specs
def test_epos_requests_are_named_as_dojos_document_names_them() -> None:
    items = _requests(_epos_named()["item"])
    assert "ListAreas: List areas" in [i["name"] for i in items]


def test_export_writes_both_files(tmp_path: Path) -> None:
    written = write_postman(tmp_path / "out", SPECS_DIR if (SPECS_DIR / "epos-data-rest.openapi"
                                                            ".json").is_file() else None)
    assert [p.name for p in written] == [PLATFORM_FILE, EPOS_FILE]
    for path in written:
        assert json.loads(path.read_text())["info"]["schema"] == SCHEMA


def test_export_with_a_specs_folder_lacking_the_document_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="epos-data-rest.openapi.json"):
        write_postman(tmp_path / "out", tmp_path)


def test_the_export_command_writes_both_and_names_a_missing_document(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dojo_epos.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["export", "postman", "--out", str(tmp_path / "c")],
                         env={"DOJO_EPOS_SPECS": ""})
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == sorted([PLATFORM_FILE, EPOS_FILE])
    refused = runner.invoke(app, ["export", "postman", "--out", str(tmp_path / "d"), "--specs",
                                  str(tmp_path)])
    assert refused.exit_code == 2
    assert "epos-data-rest.openapi.json not found" in refused.output
