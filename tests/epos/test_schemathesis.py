"""schemathesis against our REST app, in-process, driven by Dojo's own REST document.

Two checks only: no 5xx (``not_a_server_error``) and every answer matches the document
(``response_schema_conformance``). Known defects of Dojo's document are patched in a copy, each
named below; nothing else is excluded. A second run uses our generated ``/openapi.json``, which
adds ``POST /v1/events`` (spec defect #6). Examples per operation are kept small so the module
runs in seconds.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from dojo_epos.contract import models as m
from dojo_epos.epos.handler import RequestContext
from dojo_epos.epos.rest import build_rest_app
from tests.conformance.handlers import SEEDED_AT, ConformanceHandler
from tests.specs import needs_specs, rest_spec, specs_available

USERNAME, PASSWORD = "dojo", "fuzz-password"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()}
CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck),
                    database=None)


class FuzzHandler(ConformanceHandler):
    """The conformance handler, but any unknown id names an entity that exists.

    Random ids would otherwise only ever reach the NotFound path; this way generated requests get
    through to the 200 answers, whose shape is what the schema check is about.
    """

    def _order(self, order_id: str, ctx: RequestContext) -> m.Order:
        if order_id not in self.orders:
            self.orders[order_id] = m.Order(
                id=order_id, status=m.OrderStatus.NEW, total_amount=m.Money(
                    value=10**6, currency_code="GBP"), payable=True,
                details=m.OrderDetails(order_type=m.OrderType.DINE_IN,
                                       dine_in=m.DineInDetails(table_id="t1")))
        return super()._order(order_id, ctx)

    def _party(self, party_id: str, ctx: RequestContext) -> m.Party:
        if party_id not in self.parties:
            self.parties[party_id] = m.Party(id=party_id, table_ids=["t1"], status="Seated",
                                             start_time=SEEDED_AT)
        return super()._party(party_id, ctx)

    def _reservation(self, reservation_id: str, ctx: RequestContext) -> m.Reservation:
        if reservation_id not in self.reservations:
            self.reservations[reservation_id] = m.Reservation(
                id=reservation_id, name="Guest", covers=2, start_time=SEEDED_AT,
                end_time=SEEDED_AT, table_ids=["t1"])
        return super()._reservation(reservation_id, ctx)


def dojo_document() -> dict[str, Any]:
    """Dojo's REST document with its known defects patched, each named."""
    doc = copy.deepcopy(rest_spec())
    # spec defect #5: SearchTables' 200 is typed as an array of pages; we serve one page object.
    search_tables = doc["paths"]["/v1/tables/search"]["post"]["responses"]["200"]
    search_tables["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/PagedTablesResponse"}
    # spec defect #7: the document declares no security; we send basic auth with every request.
    return doc


def _app() -> Any:
    return build_rest_app(FuzzHandler(), username=USERNAME, password=PASSWORD)


# Schemas are built at import: schemathesis's fixture-based loader does not support pytest 9.
ours = schemathesis.openapi.from_asgi("/openapi.json", _app())


@ours.parametrize()
@EXAMPLES
def test_our_document_finds_no_server_error_and_no_schema_violation(case: Any) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS)


if specs_available():
    dojo = schemathesis.openapi.from_dict(dojo_document())
    dojo.app = _app()

    @dojo.parametrize()
    @EXAMPLES
    def test_dojo_document_finds_no_server_error_and_no_schema_violation(case: Any) -> None:
        case.call_and_validate(headers=AUTH, checks=CHECKS)

else:

    @needs_specs
    def test_dojo_document_finds_no_server_error_and_no_schema_violation() -> None:
        """Placeholder so the skip, and its reason, show in the report."""
