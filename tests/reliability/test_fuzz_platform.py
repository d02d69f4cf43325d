"""schemathesis against the local platform's API, in-process, driven by Dojo's two documents for it:
``dojo-api-epos-subset.openapi.json`` (registry and events) and ``epos-tester-tool.openapi.json``
(the tester, mounted under ``/epos-tester-tool``).

Every request carries ``Authorization: Basic sk_sandbox_...`` and ``software-house-id`` (spec defect
#36: the subset document drops the security Dojo's full API declares). Checks: no 5xx, and every
answer matches the document where the document is right; patched defects are named. A 4xx must
leave the registry and the event log unchanged (flow results and the call log are written by flows
running in the background, so they are left out of that fingerprint).
"""

from __future__ import annotations

import copy
import os
import tempfile
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.schema import metadata as platform_metadata
from tests.reliability.figures import FIGURES
from tests.reliability.fuzzapps import GuardedApp
from tests.specs import api_spec, needs_specs, specs_available, tester_spec

API_KEY = "sk_sandbox_fuzzPlatform0123456789"
HEADERS = {"Authorization": f"Basic {API_KEY}", "software-house-id": "fuzz-house"}
CHECKS = [not_a_server_error, response_schema_conformance]
QUICK_EXAMPLES = int(os.environ.get("RELIABILITY_QUICK_EXAMPLES", "5"))
MAX_EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "25"))
EXAMPLES = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


class _Tables:
    """The platform tables only requests change (not those background flows write)."""

    sorted_tables = [t for t in platform_metadata.sorted_tables
                     if t.name in ("platform_registrations", "platform_pos_events")]


async def _build() -> tuple[Any, Any, Any]:
    folder = tempfile.mkdtemp(prefix="dojo-epos-fuzz-platform-")
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{folder}/platform.sqlite3",
                                         call_timeout=0.5, ping_interval=None, flow_timeout=5.0))
    await platform.start()
    return build_platform_app(platform=platform), platform.store.engine.connect, _Tables()


GUARD = GuardedApp(_build)


def api_document() -> dict[str, Any]:
    doc = copy.deepcopy(api_spec())
    doc["servers"] = [{"url": "/"}]  # in-process: the app is the server
    return doc


def doc_for_tester() -> dict[str, Any]:
    """The tester document with its known defects patched (spec defect #39)."""
    doc = copy.deepcopy(tester_spec())
    # spec defect #39: no server or base path; the tool lives under /epos-tester-tool.
    doc["servers"] = [{"url": "/epos-tester-tool"}]
    # spec defect #39: GET /flows is typed as one FlowDescription; it returns an array of them.
    ok = doc["paths"]["/flows"]["get"]["responses"]["200"]["content"]["application/json"]
    ok["schema"] = {"type": "array", "items": ok["schema"]}
    return doc


def _schema(doc: dict[str, Any], phases: list[str]) -> Any:
    loaded = schemathesis.openapi.from_dict(doc)
    loaded.app = GUARD
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    loaded.config.phases.update(phases=phases)
    return loaded


def _check(case: Any) -> None:
    FIGURES.requests_tried += 1
    if case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE:
        FIGURES.bad_inputs_tried += 1
    case.call_and_validate(headers=HEADERS, checks=CHECKS)
    assert not GUARD.tally.server_errors, GUARD.tally.server_errors
    assert not GUARD.tally.changed_by_rejection, GUARD.tally.changed_by_rejection


if specs_available():
    api_quick = _schema(api_document(), ["examples", "fuzzing"])
    tester_quick = _schema(doc_for_tester(), ["examples", "fuzzing"])
    api_deep = _schema(api_document(), ["examples", "coverage", "fuzzing"])
    tester_deep = _schema(doc_for_tester(), ["examples", "coverage", "fuzzing"])

    @api_quick.parametrize()
    @settings(EXAMPLES, max_examples=QUICK_EXAMPLES)
    def test_platform_api_answers_generated_requests_in_the_documents_shape(case: Any) -> None:
        """Registry and events: no 5xx, documented shapes, no change on 4xx."""
        _check(case)

    @tester_quick.parametrize()
    @settings(EXAMPLES, max_examples=QUICK_EXAMPLES)
    def test_tester_api_answers_generated_requests_in_the_documents_shape(case: Any) -> None:
        """Tester tool: no 5xx, documented shapes, no change on 4xx."""
        _check(case)

    @pytest.mark.slow
    @api_deep.parametrize()
    @EXAMPLES
    def test_platform_api_answers_the_coverage_phase(case: Any) -> None:
        """The coverage phase and more examples against registry and events."""
        _check(case)

    @pytest.mark.slow
    @tester_deep.parametrize()
    @EXAMPLES
    def test_tester_api_answers_the_coverage_phase(case: Any) -> None:
        """The coverage phase and more examples against the tester tool."""
        _check(case)

else:

    @needs_specs
    def test_platform_api_answers_generated_requests_in_the_documents_shape() -> None:
        """Placeholder so the skip, and its reason, show in the report."""
