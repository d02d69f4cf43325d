"""Exports for users of other languages: Postman collections of both APIs (``dojo-epos export``).

:func:`write_postman` writes ``dojo-epos-platform.postman_collection.json`` (the local platform's
API) and ``dojo-epos-epos-rest.postman_collection.json`` (the EPOS REST contract, as Dojo calls an
EPOS); both are Postman collection format v2.1, runnable with newman, every request asserting its
status.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dojo_epos.export.collections import epos_collection, platform_collection

__all__ = ["EPOS_FILE", "PLATFORM_FILE", "platform_document", "write_postman"]

PLATFORM_FILE = "dojo-epos-platform.postman_collection.json"
EPOS_FILE = "dojo-epos-epos-rest.postman_collection.json"
REST_SPEC = "epos-data-rest.openapi.json"


def platform_document() -> dict[str, Any]:
    """The OpenAPI document a local platform serves at ``/openapi.json``, built without serving
    (the platform's parts are made, never started: no database is opened)."""
    from dojo_epos.platform.app import platform_routes
    from dojo_epos.platform.container import Platform, PlatformSettings
    from dojo_epos.platform.http.openapi import build_platform_openapi

    return build_platform_openapi(platform_routes(Platform(PlatformSettings(db_url="sqlite://"))))


def write_postman(out: Path, specs: Path | None = None) -> list[Path]:
    """Write both collections into ``out`` (made if missing); ``specs``: the folder of Dojo's
    documents, whose ``epos-data-rest.openapi.json`` names the EPOS requests. The paths written."""
    rest_spec = None
    if specs is not None:
        path = specs / REST_SPEC
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found")
        rest_spec = json.loads(path.read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in ((PLATFORM_FILE, platform_collection(platform_document())),
                          (EPOS_FILE, epos_collection(rest_spec))):
        target = out / name
        target.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
        written.append(target)
    return written
