"""Postman collection format v2.1: requests, folders, variables and the scripts newman runs.

Pure construction of the JSON (no I/O): :func:`request_item` makes one request with a test script
asserting its status (and, where asked, copying values of its answer into collection variables for
the requests after it); :func:`collection` puts folders of them together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["SCHEMA", "collection", "folder", "request_item", "url_of"]

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

# Reads a dotted path ("data.0.id", "secrets.-1.id", "" for the whole body) out of the answer.
_PICK = """function pick(value, path) {
  if (path === "") { return value; }
  return path.split(".").reduce(function (node, key) {
    if (node === undefined || node === null) { return undefined; }
    if (Array.isArray(node) && key.startsWith("-")) { return node[node.length + Number(key)]; }
    return node[key];
  }, value);
}"""


def url_of(base: str, path: str, query: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The URL object of ``{{base}}`` + ``path`` (``{name}`` templates become ``:name``)."""
    segments = [re.sub(r"^{(\w+)}$", r":\1", s) for s in path.strip("/").split("/") if s]
    raw = "{{" + base + "}}/" + "/".join(segments)
    url: dict[str, Any] = {"host": ["{{" + base + "}}"], "path": segments}
    if query:
        url["query"] = [{"key": k, "value": v} for k, v in query.items()]
        raw += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    url["raw"] = raw
    return url


def request_item(
    name: str,
    method: str,
    url: dict[str, Any],
    *,
    expect: int,
    path_values: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    capture: Mapping[str, str] | None = None,
    description: str = "",
    prerequest: Sequence[str] = (),
    schema: Mapping[str, Any] | None = None,
    schema_name: str = "",
) -> dict[str, Any]:
    """One request whose test asserts ``expect`` (and, given a JSON ``schema``, that the answer
    is valid by it) and sets the ``capture`` variables."""
    if path_values:
        url = {**url, "variable": [{"key": k, "value": v} for k, v in path_values.items()]}
    request: dict[str, Any] = {
        "method": method,
        "header": [{"key": k, "value": v} for k, v in (headers or {}).items()],
        "url": url,
    }
    if description:
        request["description"] = description
    if body is not None:
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {"mode": "raw", "raw": json.dumps(body, indent=2),
                           "options": {"raw": {"language": "json"}}}
    test = [f"pm.test({json.dumps(f'{method} answers {expect}')}, function () {{",
            f"  pm.response.to.have.status({expect});", "});"]
    if schema is not None:
        title = json.dumps(f"the answer is a valid {schema_name or 'answer'}")
        test += [f"const schema = {json.dumps(schema, separators=(',', ':'))};",
                 f"pm.test({title}, function () {{",
                 "  pm.response.to.have.jsonSchema(schema);", "});"]
    if capture:
        test += [_PICK, "const answer = pm.response.json();"]
        for variable, where in capture.items():
            test += [f"pm.test({json.dumps(f'the answer holds {variable}')}, function () {{",
                     f"  const value = pick(answer, {json.dumps(where)});",
                     "  pm.expect(value, " + json.dumps(where or "the body") + ").to.not.be.undefined;",
                     f"  pm.collectionVariables.set({json.dumps(variable)}, value);", "});"]
    events = [_script("test", test)]
    if prerequest:
        events.insert(0, _script("prerequest", list(prerequest)))
    return {"name": name, "event": events, "request": request}


def folder(name: str, items: Iterable[dict[str, Any]], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "item": list(items)}
    if description:
        out["description"] = description
    return out


def collection(
    name: str,
    description: str,
    items: Iterable[dict[str, Any]],
    variables: Mapping[str, str],
    *,
    auth: dict[str, Any] | None = None,
    prerequest: Sequence[str] = (),
) -> dict[str, Any]:
    """A v2.1 collection of ``items`` with collection ``variables`` (name -> initial value)."""
    out: dict[str, Any] = {
        "info": {"name": name, "description": description, "schema": SCHEMA},
        "item": list(items),
        "variable": [{"key": k, "value": v, "type": "string"} for k, v in variables.items()],
    }
    if auth is not None:
        out["auth"] = auth
    if prerequest:
        out["event"] = [_script("prerequest", list(prerequest))]
    return out


def _script(listen: str, lines: list[str]) -> dict[str, Any]:
    return {"listen": listen, "script": {"type": "text/javascript", "exec": lines}}
