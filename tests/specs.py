"""Access to Dojo's published specs from tests: loading, walking and JSON Schema validation.

The four documents live in one folder: ``$DOJO_EPOS_SPECS`` if set, else ``<repo>/../shared/specs``.
Tests that need them use the :data:`needs_specs` marker, so the suite still runs (with a clear skip
reason) where the folder is absent.

Usage::

    from tests.specs import needs_specs, rest_spec, validate

    @needs_specs
    def test_order_matches_rest_schema():
        validate(order.to_wire("rest"), rest_spec(), "Order")

:func:`validate` checks an instance against ``#/components/schemas/<name>`` of a document,
with every internal ``$ref`` resolvable, and with the JSON Schema dialect the document is written in:

* OpenAPI 3.1 -> draft 2020-12;
* OpenAPI 3.0 -> draft 4, after rewriting ``nullable: true`` into a ``"null"`` type;
* AsyncAPI 2.x -> draft 7.

Formats are asserted where jsonschema can check them without extra packages (e.g. ``uuid``);
``date-time`` is only checked if ``rfc3339-validator`` happens to be installed.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]
from referencing import Registry, Specification
from referencing.jsonschema import DRAFT4, DRAFT7, DRAFT202012

__all__ = [
    "API_SPEC",
    "REST_SPEC",
    "SPECS_DIR",
    "TESTER_SPEC",
    "WS_SPEC",
    "SpecExample",
    "api_spec",
    "iter_examples",
    "load",
    "needs_specs",
    "rest_spec",
    "schema_names",
    "specs_available",
    "tester_spec",
    "validate",
    "validator_for",
    "ws_spec",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
SPECS_DIR = Path(os.environ.get("DOJO_EPOS_SPECS", REPO_ROOT.parent / "shared" / "specs"))

REST_SPEC = "epos-data-rest.openapi.json"
WS_SPEC = "epos-data-ws.asyncapi.yml"
API_SPEC = "dojo-api-epos-subset.openapi.json"
TESTER_SPEC = "epos-tester-tool.openapi.json"
_ALL = (REST_SPEC, WS_SPEC, API_SPEC, TESTER_SPEC)


def specs_available() -> bool:
    """True when all four spec documents are present in :data:`SPECS_DIR`."""
    return all((SPECS_DIR / name).is_file() for name in _ALL)


needs_specs = pytest.mark.skipif(
    not specs_available(),
    reason=f"Dojo's spec documents not found in {SPECS_DIR} (set DOJO_EPOS_SPECS to their folder)",
)
"""Marker: skip the test when the spec folder (or any of the four documents) is missing."""


class _StringTimestampLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A safe YAML loader that keeps date-times as strings, as JSON would."""


_StringTimestampLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def load(filename: str) -> dict[str, Any]:
    """Parse one spec document (JSON or YAML) from :data:`SPECS_DIR`; cached, do not mutate."""
    path = SPECS_DIR / filename
    if not path.is_file():
        pytest.skip(f"{path} not found (set DOJO_EPOS_SPECS)")
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yml", ".yaml"):
        document = yaml.load(text, Loader=_StringTimestampLoader)  # a SafeLoader subclass
    else:
        document = json.loads(text)
    assert isinstance(document, dict), f"{path} is not a JSON/YAML object"
    return document


def rest_spec() -> dict[str, Any]:
    """The EPOS Data API REST document (OpenAPI)."""
    return load(REST_SPEC)


def ws_spec() -> dict[str, Any]:
    """The EPOS Data API WebSocket document (AsyncAPI)."""
    return load(WS_SPEC)


def api_spec() -> dict[str, Any]:
    """The ``/epos`` subset of the Dojo API (OpenAPI)."""
    return load(API_SPEC)


def tester_spec() -> dict[str, Any]:
    """The EPOS tester tool API (OpenAPI)."""
    return load(TESTER_SPEC)


tester_spec.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


def schema_names(spec: dict[str, Any]) -> list[str]:
    """Names under ``components.schemas`` of a document."""
    return list(spec.get("components", {}).get("schemas", {}))


def _dialect(spec: dict[str, Any]) -> Specification[Any]:
    openapi = str(spec.get("openapi", ""))
    if openapi.startswith("3.1"):
        return DRAFT202012
    if openapi.startswith("3.0"):
        return DRAFT4
    if str(spec.get("asyncapi", "")).startswith("2."):
        return DRAFT7
    raise ValueError("not an OpenAPI 3.x or AsyncAPI 2.x document")


def _without_nullable(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` -> JSON Schema: allow ``null`` as well."""
    if isinstance(node, list):
        return [_without_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _without_nullable(value) for key, value in node.items()}
    if out.pop("nullable", False) is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "type" not in out and "enum" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


_VALIDATORS: dict[Specification[Any], type[Any]] = {
    DRAFT4: jsonschema.Draft4Validator,
    DRAFT7: jsonschema.Draft7Validator,
    DRAFT202012: jsonschema.Draft202012Validator,
}
_URIS: dict[int, str] = {}


@cache
def _registry_for(uri: str) -> tuple[Registry[Any], type[Any]]:
    spec = _BY_URI[uri]
    dialect = _dialect(spec)
    contents = _without_nullable(copy.deepcopy(spec)) if dialect is DRAFT4 else spec
    registry: Registry[Any] = Registry().with_resource(uri, dialect.create_resource(contents))
    return registry, _VALIDATORS[dialect]


_BY_URI: dict[str, dict[str, Any]] = {}


def _uri_of(spec: dict[str, Any]) -> str:
    uri = _URIS.get(id(spec))
    if uri is None:
        uri = f"urn:dojo-epos:spec:{len(_URIS)}"
        _URIS[id(spec)] = uri
        _BY_URI[uri] = spec
    return uri


def validator_for(spec: dict[str, Any], schema_name: str) -> jsonschema.protocols.Validator:
    """A validator for ``#/components/schemas/<schema_name>`` of ``spec`` (refs resolvable)."""
    if schema_name not in spec.get("components", {}).get("schemas", {}):
        raise KeyError(f"no schema {schema_name!r} in this document")
    uri = _uri_of(spec)
    registry, validator_class = _registry_for(uri)
    schema = {"$ref": f"{uri}#/components/schemas/{schema_name}"}
    validator: jsonschema.protocols.Validator = validator_class(
        schema, registry=registry, format_checker=validator_class.FORMAT_CHECKER
    )
    return validator


def validate(instance: Any, spec: dict[str, Any], schema_name: str) -> None:
    """Raise ``jsonschema.ValidationError`` (the most relevant one) if ``instance`` does not match.

    ``instance`` must be JSON-shaped (e.g. ``model.to_wire(...)``), not a model.
    """
    validator = validator_for(spec, schema_name)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


class SpecExample:
    """One example found in a document: where it is, which schema it illustrates, its value."""

    def __init__(self, pointer: str, schema: str | None, prop: str | None, value: Any) -> None:
        self.pointer = pointer
        self.schema = schema
        self.prop = prop
        self.value = value

    def __repr__(self) -> str:
        return f"SpecExample({self.pointer})"


def _resolve_ref(ref: str) -> str | None:
    prefix = "#/components/schemas/"
    return ref[len(prefix) :] if ref.startswith(prefix) else None


def iter_examples(spec: dict[str, Any]) -> Iterator[SpecExample]:
    """Every ``example``/``examples``/``x-examples`` value anywhere in ``spec``.

    ``examples``/``x-examples`` maps (name -> example, or name -> ``{"value": ...}`` for OpenAPI
    Example Objects) and lists are flattened into one item each. Each item says which component
    schema it belongs to (``schema``), and for property-level examples which property (``prop``);
    an example next to a ``$ref`` (e.g. inside a response) is attributed to the referenced schema.
    Examples on parameters have ``schema=None`` and the parameter's ``name`` in ``prop``.
    """

    def walk(node: Any, path: list[str], schema: str | None) -> Iterator[SpecExample]:
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from walk(item, [*path, str(index)], schema)
            return
        if not isinstance(node, dict):
            return
        here, prop = schema, None
        if len(path) == 3 and path[:2] == ["components", "schemas"]:
            here = path[2]
        elif len(path) >= 2 and path[-2] == "properties":
            prop = path[-1]
        elif "parameters" in path and "in" in node and "name" in node:
            here, prop = None, str(node["name"])
        if isinstance(node.get("$ref"), str):
            here, prop = _resolve_ref(node["$ref"]) or here, None
        for key, value in node.items():
            where = [*path, key]
            pointer = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in where)
            if key == "example" and not (path and path[-1] == "properties"):
                yield SpecExample(pointer, here, prop, value)
            elif key in ("examples", "x-examples") and not (path and path[-1] == "properties"):
                items = value.items() if isinstance(value, dict) else enumerate(value)
                for name, item in items:
                    if key == "examples" and isinstance(item, dict) and "value" in item:
                        item = item["value"]
                    yield SpecExample(f"{pointer}/{name}", here, prop, item)
            else:
                yield from walk(value, where, here)

    yield from walk(spec, [], None)
