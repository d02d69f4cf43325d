"""schemathesis against the platform's payments routes, driven by Dojo's payments document.

Two checks: no 5xx and every answer matches the document. One defect of the document is patched in
a copy (P1 in docs/payments.md: ``PagedPaymentIntent`` only admits ``{}``). The platform has payment
intents to find, so generated requests reach the state rules, not only the 404 path.
"""

from __future__ import annotations

import asyncio
import copy
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, scope_of
from tests.specs import needs_specs, specs_available

from .doc import payments_spec

CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck),
                    database=None)
AUTH = {"Authorization": f"Basic {SANDBOX_KEY}", "software-house-id": SOFTWARE_HOUSE}


def patched() -> dict[str, Any]:
    doc = copy.deepcopy(payments_spec())
    search = doc["paths"]["/payment-intents/search"]["post"]["responses"]["200"]
    search["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/PagedResultOfPaymentIntent"}
    return doc


def _app() -> Any:
    folder = Path(tempfile.mkdtemp(prefix="payments-fuzz-"))
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{folder / 'platform.sqlite3'}"))

    async def seed() -> None:
        for n in range(5):
            await platform.payments.intents.record_payment(
                scope_of(), intent_id=f"pi_fuzz_{n}", order_id=f"ord_{n}", amount=10_000)
        # This loop ends here: what the payments set going in it (their events, on every channel,
        # and the calls those made, in the call log) finishes first. A webhook task still reading
        # the store was cancelled mid-check-out when the loop closed, and the connection it left
        # warned when collected, failing whichever test ran then (1 run in 3 of this folder).
        await platform.payments.drain()
        await platform.invoker.aclose()
        await platform.store.close()  # the engine is reopened in the test's own loop

    asyncio.run(seed())
    return build_platform_app(platform=platform)


if specs_available():
    dojo = schemathesis.openapi.from_dict(patched())
    dojo.app = _app()

    @dojo.parametrize()
    @EXAMPLES
    def test_the_payments_document_finds_no_server_error_and_no_schema_violation(case: Any) -> None:
        case.call_and_validate(headers=AUTH, checks=CHECKS)

else:

    @needs_specs
    def test_the_payments_document_finds_no_server_error_and_no_schema_violation() -> None:
        """Placeholder so the skip, and its reason, show in the report."""
