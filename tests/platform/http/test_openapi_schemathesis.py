"""schemathesis against the local platform, driven by the platform's own ``/openapi.json``.

Every operation the document lists, with generated requests: no 5xx, and every answer matches
the document (status and body). Slow (``make reliability``); the in-process example run in
test_openapi_answers.py holds the document to the real answers in CI.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck),
                    database=None)
AUTH = {"Authorization": f"Basic {SANDBOX_KEY}", "software-house-id": SOFTWARE_HOUSE}


def _app() -> Any:
    folder = Path(tempfile.mkdtemp(prefix="platform-openapi-fuzz-"))
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{folder / 'platform.sqlite3'}",
                                         ping_interval=None, call_timeout=1.0))
    return build_platform_app(platform=platform)


ours = schemathesis.openapi.from_asgi("/openapi.json", _app())


@pytest.mark.slow
@ours.parametrize()
@EXAMPLES
def test_the_platform_document_finds_no_server_error_and_no_violation(case: Any) -> None:
    case.call_and_validate(headers={**AUTH, **(case.headers or {})}, checks=CHECKS)
