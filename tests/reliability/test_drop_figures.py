"""Figures of issue 14 (item 5): per socket fault, with payments in flight, how long until our
connector is back and the reference EPOS answers again, on SQLite and on PostgreSQL.

Each run: the reference EPOS (our connector, its default back-off: 0.5 s, jitter 20 %) is paying
``IN_FLIGHT`` orders at once when the platform breaks the socket with the fault (set through the
fault book, fired by one more payment). The payments cut by the drop fail typed; once the connector
is back the one that fired the fault is re-sent alone (the first good answer), then all the others
at once, each with the same paymentIntentId, and every order reconciles: each payment stored once,
``paidAmount`` their sum. For scale, the same number of payments at once without a fault is timed
first (the baseline; it also warms the EPOS's connection pool, as in a running EPOS). A payment
sent over REST at the moment of the drop, to a second EPOS on the same database (what ``dojo-epos
epos serve`` on the same file is), must be answered in normal time too: a write cut by the drop
must not hold the database (issue 14's SQLite defect).

The times go to the reliability report (a table, printed at the end and written to
``test-artifacts/reliability.json``); the test fails only past ``BOUND`` seconds (the defect took
30 s and more), and the table says whether the 2 s target was met.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from dojo_epos.contract import models as m
from dojo_epos.epos.handler import RequestContext
from dojo_epos.epos.reference import open_reference
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.platform.faults import Fault, FaultKind
from dojo_epos.platform.outcome import Failure
from tests.reliability.figures import FIGURES, DropFigure
from tests.reliability.rigs import platform_rig
from tests.reliability.storm import prepare

IN_FLIGHT = 24
BOUND = 10.0
USER, PASSWORD = "dojo", "drop-figures-7f3a"
PART = 50  # minor units per payment: every seeded order has more than this due

KINDS = {
    "drop-before-send": Fault(FaultKind.DROP_BEFORE_SEND, capability="RecordOrderPayment", times=1),
    "drop-after-send": Fault(FaultKind.DROP_AFTER_SEND, capability="RecordOrderPayment", times=1),
    "close 1001": Fault(FaultKind.CLOSE, capability="RecordOrderPayment", close_code=1001, times=1),
    "close 1012": Fault(FaultKind.CLOSE, capability="RecordOrderPayment", close_code=1012, times=1),
}


def _payment(order_id: str, intent: str) -> dict[str, Any]:
    return {"orderId": order_id, "paymentIntentId": intent,
            "paidAmount": {"value": PART, "currencyCode": "GBP"}, "headers": {}}


@pytest.mark.slow
@pytest.mark.socket
@pytest.mark.parametrize("kind", list(KINDS))
async def test_after_a_socket_fault_with_payments_in_flight_the_epos_is_back_within_the_bound(
        kind: str, epos_db: tuple[str, str], tmp_path: Path) -> None:
    database, url = epos_db
    all_ids = await prepare(url, 2 * IN_FLIGHT + 2, seed=14)
    order_ids, warm_ids = all_ids[:IN_FLIGHT + 2], all_ids[IN_FLIGHT + 2:]
    reference = await open_reference(url)
    second = await open_reference(url)  # another EPOS process on the same database
    rest = httpx.AsyncClient(transport=httpx.ASGITransport(
        app=build_rest_app(second, username=USER, password=PASSWORD)),
        base_url="http://epos", auth=(USER, PASSWORD), timeout=60)
    rig = await platform_rig(tmp_path, call_timeout=20.0)
    try:
        # the connector's own defaults for the back-off, so the figure is what a user gets
        await rig.attach(reference, "figures-house", backoff_initial=0.5, backoff_max=30.0)
        scope, platform = rig.scopes[0], rig.platform
        session = platform.gateway.connection(scope)
        assert session is not None
        started = time.perf_counter()  # the baseline: as many payments at once, no fault
        warm = await asyncio.gather(*(platform.invoke(scope, "RecordOrderPayment",
                                                      _payment(o, f"pi_warm_{n:03d}"))
                                      for n, o in enumerate(warm_ids)))
        baseline = time.perf_counter() - started
        assert all(o.ok for o in warm), [o.summary() for o in warm if not o.ok]
        sent_before = session.counters.requests_sent
        payments = [_payment(o, f"pi_fig_{n:03d}") for n, o in enumerate(order_ids[:IN_FLIGHT])]
        calls = [asyncio.create_task(platform.invoke(scope, "RecordOrderPayment", p))
                 for p in payments]
        async with asyncio.timeout(10):  # every payment on the wire before the fault
            while session.counters.requests_sent < sent_before + IN_FLIGHT:
                await asyncio.sleep(0)
        platform.invoker.faults.add(scope, KINDS[kind])
        trigger = _payment(order_ids[IN_FLIGHT], "pi_fig_trigger")
        cut = await platform.invoke(scope, "RecordOrderPayment", trigger)
        dropped = time.perf_counter()
        assert cut.failure is Failure.TRANSPORT_ERROR, cut.summary()
        FIGURES.faults_injected += 1

        async def rest_payment() -> float:
            response = await rest.post(f"/v1/orders/{order_ids[-1]}/record-payment", json={
                "paymentIntentId": "pi_fig_rest", "paidAmount": {"value": PART, "currencyCode": "GBP"}})
            assert response.status_code == 200, response.text
            return time.perf_counter() - dropped

        over_rest = asyncio.create_task(rest_payment())
        outcomes = await asyncio.gather(*calls)
        assert all(o.ok or o.failure is Failure.TRANSPORT_ERROR for o in outcomes), \
            [o.summary() for o in outcomes if not o.ok]
        cut_off = [p for p, o in zip(payments, outcomes, strict=True) if not o.ok]
        assert cut_off, "no payment was in flight at the drop: the figure would mean nothing"

        async with asyncio.timeout(BOUND):
            while True:
                live = platform.gateway.connection(scope)
                if live is not None and live is not session and not live.closed:
                    break
                await asyncio.sleep(0.002)
        back = time.perf_counter() - dropped
        async with asyncio.timeout(BOUND):  # the first terminal to re-send, alone
            again = await platform.invoke(scope, "RecordOrderPayment", trigger)
        first = time.perf_counter() - dropped
        assert again.ok, again.summary()
        async with asyncio.timeout(BOUND):  # then every other terminal at once
            answered = await asyncio.gather(*(platform.invoke(scope, "RecordOrderPayment", p)
                                              for p in cut_off))
        every = time.perf_counter() - dropped
        assert all(o.ok for o in answered), [o.summary() for o in answered if not o.ok]
        rest_seconds = await asyncio.wait_for(over_rest, BOUND)
        FIGURES.retries += len(cut_off) + 1
        FIGURES.payments_acknowledged += 2 * IN_FLIGHT + 2

        # reconcile: every payment once, paidAmount their sum
        ctx = RequestContext(capability="GetOrderById", transport="local")
        stored = 0
        for n, order_id in enumerate(order_ids):
            order = await reference.get_order_by_id(m.OrderIdParams(order_id=order_id), ctx)
            intents = Counter(p.payment_intent_id for p in order.payments)
            assert all(count == 1 for count in intents.values()), (order_id, intents)
            assert order.paid_amount is not None
            assert order.paid_amount.value == sum(p.paid_amount.value for p in order.payments)
            want = "pi_fig_rest" if n == IN_FLIGHT + 1 else \
                "pi_fig_trigger" if n == IN_FLIGHT else f"pi_fig_{n:03d}"
            assert intents[want] == 1, (order_id, want, intents)
            stored += len(order.payments)
        FIGURES.payments_reconciled += stored
        FIGURES.orders_reconciled += len(order_ids)
        FIGURES.reconnect_seconds.append(back)
        FIGURES.drops.append(DropFigure(kind, database, len(cut_off), back, first, every,
                                        rest_seconds, baseline))
        assert max(first, rest_seconds) < BOUND
    finally:
        await rig.aclose()
        await rest.aclose()
        await reference.aclose()
        await second.aclose()
