"""Order locks (domain notes §3.1) on both databases."""

from __future__ import annotations

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.epos.reference import till
from dojo_epos.epos.reference.menu import line
from tests.epos.reference.conftest import ctx, soon
from tests.epos.reference.helpers import get, lock, open_order


async def extend(epos, order_id, lock_id, expiry):
    return await epos.extend_order_lock(
        m.ExtendOrderLockParams(order_id=order_id, lock_id=lock_id, expiry=expiry), ctx())


async def unlock(epos, order_id, lock_id):
    return await epos.delete_order_lock(
        m.DeleteOrderLockParams(order_id=order_id, lock_id=lock_id), ctx())


async def test_lock_returns_the_order_and_same_lock_id_relocks(epos):
    """Locking answers the current order; the same lockId again is harmless."""
    order = await open_order(epos)
    locked = await lock(epos, order.id, "L1", soon())
    assert locked.id == order.id and locked.total_amount == order.total_amount
    again = await lock(epos, order.id, "L1", soon(10))
    assert again.id == order.id


async def test_other_lock_id_while_live_is_conflict_naming_holder_and_expiry(epos):
    """A second holder gets Conflict whose message says who holds it and until when."""
    order = await open_order(epos)
    expiry = soon()
    await lock(epos, order.id, "L1", expiry)
    with pytest.raises(EposError) as err:
        await lock(epos, order.id, "L2", soon())
    assert err.value.error_type is ErrorType.CONFLICT
    assert "L1" in err.value.debug_message and str(expiry.year) in err.value.debug_message


async def test_expired_lock_does_not_block(epos):
    """Once a lock's expiry has passed, another lockId may lock."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon(-1))
    assert (await lock(epos, order.id, "L2", soon())).id == order.id
    with pytest.raises(EposError) as err:
        await lock(epos, order.id, "L1", soon())
    assert err.value.error_type is ErrorType.CONFLICT


async def test_extend_moves_expiry_and_returns_empty_result(epos):
    """Extend answers {} (spec defect #9), and the lock then outlives its first expiry."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon(0.01))
    assert await extend(epos, order.id, "L1", soon(60)) == m.EmptyResult()
    with pytest.raises(EposError):  # still held: the old expiry no longer applies
        await lock(epos, order.id, "L2", soon())


async def test_extend_revives_an_expired_unsuperseded_lock(epos):
    """Extending an expired lock nobody replaced makes it live again."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon(-1))
    await extend(epos, order.id, "L1", soon(5))
    with pytest.raises(EposError) as err:
        await lock(epos, order.id, "L2", soon())
    assert err.value.error_type is ErrorType.CONFLICT


@pytest.mark.parametrize("case", ["unknown", "deleted", "superseded"])
async def test_extend_unknown_or_deleted_lock_is_not_found(epos, case):
    """Extend names a lock that is not there: NotFound."""
    order = await open_order(epos)
    if case == "deleted":
        await lock(epos, order.id, "L1", soon())
        await unlock(epos, order.id, "L1")
    if case == "superseded":
        await lock(epos, order.id, "L1", soon(-1))
        await lock(epos, order.id, "L2", soon(-0.5))  # replaced L1, and expired too
    with pytest.raises(EposError) as err:
        await extend(epos, order.id, "L1", soon())
    assert err.value.error_type is ErrorType.NOT_FOUND


async def test_extend_under_another_live_holder_is_conflict(epos):
    """Extending when someone else holds the live lock: Conflict."""
    order = await open_order(epos)
    await lock(epos, order.id, "L2", soon())
    with pytest.raises(EposError) as err:
        await extend(epos, order.id, "L1", soon())
    assert err.value.error_type is ErrorType.CONFLICT


async def test_delete_is_idempotent_and_returns_the_order(epos):
    """Deleting twice, or deleting a lock never taken, answers the order."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon())
    assert (await unlock(epos, order.id, "L1")).id == order.id
    assert (await unlock(epos, order.id, "L1")).id == order.id
    assert (await unlock(epos, order.id, "never")).id == order.id
    assert (await lock(epos, order.id, "L2", soon())).id == order.id  # it really was released


async def test_delete_of_someone_elses_lock_leaves_it_in_place(epos):
    """Deleting another lockId does not release the live lock."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon())
    await unlock(epos, order.id, "L2")
    with pytest.raises(EposError):
        await lock(epos, order.id, "L3", soon())


async def test_reads_are_never_blocked_by_a_lock(epos):
    """GetOrderById, the bill and search all answer while the order is locked."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon())
    assert (await get(epos, order.id)).id == order.id
    bill = await epos.get_order_bill(m.OrderIdParams(order_id=order.id), ctx())
    assert bill.order.id == order.id
    page = await epos.search_orders(m.SearchOrdersParams(payable_only=True), ctx())
    assert order.id in [o.id for o in page.data]


@pytest.mark.parametrize("capability", ["lock", "extend", "unlock"])
async def test_lock_calls_on_unknown_order_are_not_found(epos, capability):
    """No order, no lock: NotFound."""
    call = {"lock": lock, "extend": extend, "unlock": lambda e, o, lid, *_: unlock(e, o, lid)}
    with pytest.raises(EposError) as err:
        await call[capability](epos, "ord_missing", "L1", soon())
    assert err.value.error_type is ErrorType.NOT_FOUND


async def test_till_changes_are_refused_under_a_live_lock(epos):
    """Add, void and close are Conflict while Dojo holds the lock; allowed after unlock."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon())
    for action in (
        till.add_item(epos.db, order.id, line("DR-COKE")),
        till.void_item(epos.db, order.id, 0),
        till.close_order(epos.db, order.id, settle_cash=True),
    ):
        with pytest.raises(EposError) as err:
            await action
        assert err.value.error_type is ErrorType.CONFLICT and "L1" in err.value.debug_message
    assert (await get(epos, order.id)).items == order.items  # nothing changed
    await unlock(epos, order.id, "L1")
    assert len((await till.add_item(epos.db, order.id, line("DR-COKE"))).items) == 3


async def test_till_may_edit_once_the_lock_has_expired(epos):
    """An expired lock no longer holds the till back."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon(-1))
    assert len((await till.add_item(epos.db, order.id, line("DR-COKE"))).items) == 3
