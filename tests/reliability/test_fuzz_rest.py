"""schemathesis against the reference EPOS's REST app, in-process, driven by Dojo's REST document.

Positive and negative data per operation (``parametrize``; the default run keeps to the examples
and fuzzing phases, ``-m slow`` adds the coverage phase and more examples), then a
stateful run: Dojo's document declares no OpenAPI links, but schemathesis 4 infers them from the
schemas (``POST /v1/orders`` -> ``id`` -> ``GET /v1/orders/{orderId}``...), so its state machine does
chain calls. Checks: no 5xx and every answer conforms to the document, except where the document
itself is wrong (each patch names its spec defect). Beyond schemathesis: every 4xx is checked to
have left the database exactly as it was (a fingerprint of every row, before and after).
"""

from __future__ import annotations

import base64
import copy
import os
import tempfile
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from dojo_epos.epos.reference import open_reference
from dojo_epos.epos.reference.schema import metadata
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.epos.rest import build_rest_app
from tests.reliability.figures import FIGURES
from tests.reliability.fuzzapps import GuardedApp
from tests.specs import needs_specs, rest_spec, specs_available

USERNAME, PASSWORD = "dojo", "fuzz-reference-Pw-71"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()}
CHECKS = [not_a_server_error, response_schema_conformance]
#: Examples per operation and mode: a few in the default run, more under ``-m slow``.
QUICK_EXAMPLES = int(os.environ.get("RELIABILITY_QUICK_EXAMPLES", "5"))
MAX_EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "25"))
EXAMPLES = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def dojo_document() -> dict[str, Any]:
    """Dojo's REST document with its known defects patched, each named."""
    doc = copy.deepcopy(rest_spec())
    # spec defect #5: SearchTables' 200 is typed as an array of pages; we serve one page object.
    search_tables = doc["paths"]["/v1/tables/search"]["post"]["responses"]["200"]
    search_tables["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/PagedTablesResponse"}
    # spec defect #7: the document declares no security; every request carries basic auth.
    return doc


async def _build() -> tuple[Any, Any, Any]:
    folder = tempfile.mkdtemp(prefix="dojo-epos-fuzz-")
    handler = await open_reference(f"sqlite:///{folder}/epos.sqlite3")
    await seed_database(handler.db)
    app = build_rest_app(handler, username=USERNAME, password=PASSWORD)
    return app, handler.db.engine.connect, metadata


GUARD = GuardedApp(_build)


def _count(case: Any) -> None:
    FIGURES.requests_tried += 1
    if case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE:
        FIGURES.bad_inputs_tried += 1


def _assert_guard_clean() -> None:
    assert not GUARD.tally.server_errors, GUARD.tally.server_errors
    assert not GUARD.tally.changed_by_rejection, GUARD.tally.changed_by_rejection


def _schema(phases: list[str]) -> Any:
    loaded = schemathesis.openapi.from_dict(dojo_document())
    loaded.app = GUARD
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    loaded.config.phases.update(phases=phases)
    return loaded


if specs_available():
    quick = _schema(["examples", "fuzzing"])
    deep = _schema(["examples", "coverage", "fuzzing"])

    @quick.parametrize()
    @settings(EXAMPLES, max_examples=QUICK_EXAMPLES)
    def test_reference_epos_answers_generated_requests_in_the_documents_shape(case: Any) -> None:
        """Positive and negative data: never a 5xx, always the documented shape, no change on 4xx."""
        _count(case)
        case.call_and_validate(headers=AUTH, checks=CHECKS)
        _assert_guard_clean()

    @pytest.mark.slow
    @deep.parametrize()
    @EXAMPLES
    def test_reference_epos_answers_the_coverage_phase_in_the_documents_shape(case: Any) -> None:
        """schemathesis's coverage phase too (every boundary and every way to break a field)."""
        _count(case)
        case.call_and_validate(headers=AUTH, checks=CHECKS)
        _assert_guard_clean()

    # Links are inferred only with the stateful phase on (Dojo's document declares none).
    class _Workflow(_schema(["stateful"]).as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            _count(case)
            return {"headers": AUTH}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    @pytest.mark.slow
    @pytest.mark.xfail(
        raises=FlakyStrategyDefinition, strict=False,
        reason="the app's database carries over between state-machine runs, so hypothesis can "
               "find its inferred-link bundles filled differently on a replay; any other failure "
               "(a 5xx, a schema violation, a change on 4xx) still fails the test")
    def test_reference_epos_survives_stateful_sequences() -> None:
        """Chained calls (create, then get/lock/pay/update what was created) stay in shape."""
        _Workflow.run(settings=settings(max_examples=max(10, MAX_EXAMPLES * 4),
                                        stateful_step_count=8, deadline=None, database=None,
                                        suppress_health_check=list(HealthCheck)))
        _assert_guard_clean()

else:

    @needs_specs
    def test_reference_epos_answers_generated_requests_in_the_documents_shape() -> None:
        """Placeholder so the skip, and its reason, show in the report."""
