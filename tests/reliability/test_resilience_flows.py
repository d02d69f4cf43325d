"""Our connector and the reference EPOS pass every resilience flow, over real sockets, on SQLite and
on PostgreSQL; afterwards every order reconciles (each payment once, ``paidAmount`` their sum).

The connector's back-off starts at 0.1 s here (its default is 0.5 s) so that Reconnect's three
refused handshakes cost about 1.5 s of CI rather than 8 s; the figures of
``test_drop_figures.py`` are measured at the defaults."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.tester_models import Status
from dojo_epos.epos.handler import RequestContext
from dojo_epos.epos.reference import open_reference
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.platform.tester.flows.resilience import RESILIENCE_FLOWS
from tests.reliability.figures import FIGURES
from tests.reliability.rigs import platform_rig


def _explain(result: object) -> str:
    return "\n".join(f"{s.status.value:11} {s.name}: {' | '.join(s.additional_information)[:300]}"
                     for s in result.steps)  # type: ignore[attr-defined]


@pytest.mark.socket
async def test_the_reference_epos_over_the_connector_passes_every_resilience_flow(
        epos_db: tuple[str, str], tmp_path: Path) -> None:
    _, url = epos_db
    reference = await open_reference(url)
    await seed_database(reference.db)
    rig = await platform_rig(tmp_path, call_timeout=5.0)
    try:
        await rig.attach(reference, "resilience-house", backoff_initial=0.1, backoff_max=30.0)
        scope = rig.scopes[0]
        flow_id = await rig.platform.tester.start(scope, "Resilience", {
            "delay": "0.3", "reconnectWithin": "5", "pings": "2", "pongWithin": "2",
            "idleFor": "0.3", "closedWithin": "2", "window": "1", "backoffWithin": "20"})
        result = await rig.platform.tester.wait(scope, flow_id)
        assert result is not None
        assert result.status is Status.SUCCESS, _explain(result)
        ran = {s.name.split(":", 1)[0] for s in result.steps}
        assert ran == {f.name for f in RESILIENCE_FLOWS}, ran  # every one ran, on the WebSocket
        FIGURES.faults_injected += sum(1 for s in result.steps
                                       for line in s.additional_information
                                       if line.startswith("injected fault"))
        ctx = RequestContext(capability="SearchOrders", transport="local")
        page = await reference.search_orders(m.SearchOrdersParams(cursor=m.Cursor(limit=100)), ctx)
        for order in page.data:
            intents = Counter(p.payment_intent_id for p in order.payments)
            assert all(n == 1 for n in intents.values()), (order.id, intents)
            paid = order.paid_amount.value if order.paid_amount else 0
            assert paid == sum(p.paid_amount.value for p in order.payments), order.id
        FIGURES.orders_reconciled += len(page.data)
    finally:
        await rig.aclose()
        await reference.aclose()
