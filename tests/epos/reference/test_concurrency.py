"""Many terminals paying the same orders at once: no payment lost, none counted twice, no overpay.

Twenty asyncio tasks pay parts of three orders through two separate handlers (two engines, two
connection pools: on PostgreSQL that is what two server processes look like to the database), with
retries of the same paymentIntentId and some retries carrying different amounts mixed in.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.epos.reference import open_reference
from tests.epos.reference.helpers import get, open_order, pay


async def test_concurrent_payments_never_overpay_or_double_count(epos, db_url):
    """paidAmount equals the sum of distinct accepted payments and never exceeds the total."""
    other = await open_reference(db_url)
    try:
        orders = [await open_order(epos, table) for table in ("T1", "T2", "T3")]
        # Per order, more payment parts than its total, so some must be refused as overpayment.
        plan = []
        for order in orders:
            total = order.total_amount.value
            parts = [total // 4] * 6  # 150% of the total
            plan += [(order.id, f"pi_{order.id}_{k}", amount) for k, amount in enumerate(parts)]
        accepted: dict[str, set[int]] = defaultdict(set)
        unexpected: list[BaseException] = []

        async def terminal(n: int) -> None:
            rng = random.Random(n)
            handler = epos if n % 2 else other
            calls = rng.sample(plan, len(plan) // 2) + rng.sample(plan, 4)  # retries mixed in
            for order_id, intent, amount in calls:
                if rng.random() < 0.1:
                    amount += 1  # a "retry" with different amounts: must not both count
                try:
                    await pay(handler, order_id, amount, intent=intent)
                except EposError as exc:
                    if exc.error_type is not ErrorType.CONFLICT:
                        unexpected.append(exc)
                else:
                    accepted[intent].add(amount)
                await asyncio.sleep(0)

        await asyncio.gather(*(terminal(n) for n in range(20)))
        assert unexpected == []
        assert all(len(amounts) == 1 for amounts in accepted.values()), accepted
        for order in orders:
            final = await get(epos, order.id)
            stored = {p.payment_intent_id: p.paid_amount.value for p in final.payments}
            mine = {i: a.pop() for i, a in list(accepted.items()) if i.startswith(f"pi_{order.id}_")}
            assert stored == mine
            assert final.paid_amount.value == sum(mine.values())
            assert final.paid_amount.value <= final.total_amount.value
            assert final.payable is (final.paid_amount.value < final.total_amount.value)
    finally:
        await other.aclose()


async def test_concurrent_locks_admit_exactly_one_holder(epos, db_url):
    """Ten terminals locking one order at once: one wins, the rest get Conflict."""
    from tests.epos.reference.conftest import soon
    from tests.epos.reference.helpers import lock

    other = await open_reference(db_url)
    try:
        order = await open_order(epos)
        results = await asyncio.gather(
            *(lock(epos if n % 2 else other, order.id, f"L{n}", soon()) for n in range(10)),
            return_exceptions=True,
        )
        wins = [r for r in results if not isinstance(r, BaseException)]
        losses = [r for r in results if isinstance(r, EposError)]
        assert len(wins) == 1 and len(losses) == 9
        assert all(e.error_type is ErrorType.CONFLICT for e in losses)
    finally:
        await other.aclose()
