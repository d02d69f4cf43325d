"""The payments document from tests: each operation's request and response schemas, validated.

``check_response`` validates an answer against the schema the document gives for its operation and
status (a status the document does not list for the operation must be a problem-details body), and
records the operation in :data:`CHECKED`, so a test can prove every operation was exercised.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import httpx

from tests.specs import load, validate

PAYMENTS_SPEC = "dojo-api-payments-subset.openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")

#: (METHOD, path template) of every operation checked so far in this process.
CHECKED: set[tuple[str, str]] = set()


def payments_spec() -> dict[str, Any]:
    return load(PAYMENTS_SPEC)


def operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in payments_spec()["paths"].items()
            for method in item if method in METHODS}


@cache
def _augmented() -> tuple[dict[str, Any], dict[str, str]]:
    """A copy of the document with each operation's schemas added under components.schemas."""
    spec = copy.deepcopy(payments_spec())
    names: dict[str, str] = {}
    schemas = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for status, response in op.get("responses", {}).items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema is not None:
                    name = f"op_{len(names)}"
                    schemas[name] = schema
                    names[f"{method.upper()} {path} {status}"] = name
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "schema" in body:
                name = f"op_{len(names)}"
                schemas[name] = body["schema"]
                names[f"{method.upper()} {path} request"] = name
    return spec, names


def check_request(method: str, path: str, body: Any) -> None:
    spec, names = _augmented()
    validate(body, spec, names[f"{method} {path} request"])


def _as_https(data: Any) -> Any:
    """``data`` with local http:// webhook URLs read as https:// (the local extension aside)."""
    if isinstance(data, list):
        return [_as_https(item) for item in data]
    if isinstance(data, dict):
        return {k: ("https://" + v[len("http://"):] if k == "url" and isinstance(v, str)
                    and v.startswith("http://") else _as_https(v)) for k, v in data.items()}
    return data


def check_response(method: str, path: str, response: httpx.Response, *, local: bool = False) -> Any:
    """The JSON body (None for none), after validating it against the document.

    ``local=True``: the body may carry a local http:// webhook URL; it is validated as if https.
    """
    spec, names = _augmented()
    documented = payments_spec()["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in documented or response.status_code in (400, 404, 409), (
        f"{method} {path} answered {status}, which is not an error we give")
    CHECKED.add((method, path))
    if response.status_code == 204 or not response.content:
        assert status in documented and "content" not in documented[status]
        return None
    data = response.json()
    shown = _as_https(data) if local else data
    name = names.get(f"{method} {path} {status}")
    if name is not None and (method, path, status) == ("POST", "/payment-intents/search", "200"):
        # Payments document defect P1: PagedPaymentIntent is allOf [PagedResultOfPaymentIntent,
        # {additionalProperties: false}], which only {} satisfies; its first branch is the shape.
        name = "PagedResultOfPaymentIntent"
    if name is None:  # an error status the document does not list here: still problem details
        validate(shown, spec, "ProblemDetails")
    else:
        validate(shown, spec, name)
    if response.status_code >= 400:
        validate(data, spec, "ProblemDetails")
        validate(data, spec, "ErrorResponse")
    return data
