"""The fault book: off by default, per scope, per capability, counted down, validated."""

from __future__ import annotations

import random

import pytest

from dojo_epos.platform.fault_book import FaultBook
from dojo_epos.platform.faults import Fault, FaultError, FaultKind
from tests.platform.conftest import SANDBOX_KEY, scope_of

A, B = scope_of(), scope_of(SANDBOX_KEY, "another-house")


def test_nothing_fires_by_default() -> None:
    book = FaultBook()
    assert book.for_call(A, "GetOrderById", "ws") == []
    assert book.for_handshake(A) is None and book.for_ping(A) is None


def test_faults_never_leak_between_scopes_and_honour_the_capability() -> None:
    book = FaultBook()
    book.add(A, Fault(FaultKind.DROP_AFTER_SEND, capability="RecordOrderPayment"))
    assert book.for_call(B, "RecordOrderPayment", "ws") == []
    assert book.for_call(A, "GetOrderById", "ws") == []
    [fired] = book.for_call(A, "RecordOrderPayment", "ws")
    assert fired.kind is FaultKind.DROP_AFTER_SEND
    assert book.for_call(A, "RecordOrderPayment", "rest") == []  # a socket fault, not REST's


def test_an_alias_names_the_same_capability_and_times_counts_down() -> None:
    book = FaultBook()
    stored = book.add(A, Fault(FaultKind.NEVER_ANSWER, capability="GetOrder", times=2))
    assert stored.capability == "GetOrderById" and stored.id
    assert len(book.for_call(A, "GetOrderById", "ws")) == 1
    assert len(book.for_call(A, "GetOrderById", "ws")) == 1
    assert book.for_call(A, "GetOrderById", "ws") == [] and book.of(A) == []


def test_socket_faults_count_down_per_handshake_and_per_ping_and_clear_removes() -> None:
    book = FaultBook()
    book.add(A, Fault(FaultKind.REFUSE_HANDSHAKE, status=503, times=2))
    book.add(A, Fault(FaultKind.IGNORE_PINGS, times=1))
    assert book.for_handshake(B) is None and book.for_ping(B) is None  # never another scope's
    assert [book.for_handshake(A) is not None for _ in range(3)] == [True, True, False]
    assert [book.for_ping(A) is not None for _ in range(2)] == [True, False]
    with pytest.raises(FaultError, match="^capability:"):
        book.add(A, Fault(FaultKind.IGNORE_PINGS, capability="GetOrderById"))
    with pytest.raises(FaultError, match="^status:"):
        book.add(A, Fault(FaultKind.REFUSE_HANDSHAKE, status=500))
    kept = book.add(A, Fault(FaultKind.DELAY, delay=0.5))
    book.add(A, Fault(FaultKind.CLOSE, close_code=4000))
    assert book.clear(A, kept.id) == 1 and [f.kind for f in book.of(A)] == [FaultKind.CLOSE]
    assert book.clear(A) == 1 and book.of(A) == []


def test_a_random_delay_stays_in_its_range() -> None:
    fault = Fault(FaultKind.DELAY, delay=0.1, delay_max=0.3)
    rng = random.Random(1)
    seconds = [fault.seconds(rng) for _ in range(200)]
    assert min(seconds) >= 0.1 and max(seconds) <= 0.3 and len(set(seconds)) > 100
    assert "delay 0.1-0.3 s" in FaultBook().add(A, fault).describe()


@pytest.mark.parametrize(("fault", "field"), [
    (Fault(FaultKind.CLOSE, close_code=1000), "closeCode"),
    (Fault(FaultKind.DELAY, close_code=4000, delay=1), "closeCode"),
    (Fault(FaultKind.DELAY), "delay"),
    (Fault(FaultKind.DELAY, delay=1, delay_max=0.5), "delayMax"),
    (Fault(FaultKind.DELAY, delay=-1), "delay"),
    (Fault(FaultKind.DROP_BEFORE_SEND, capability="NoSuchThing"), "capability"),
    (Fault(FaultKind.NEVER_ANSWER, times=0), "times"),
])
def test_an_invalid_fault_is_refused_naming_its_field_and_changes_nothing(
        fault: Fault, field: str) -> None:
    book = FaultBook()
    with pytest.raises(FaultError, match=f"^{field}:"):
        book.add(A, fault)
    assert book.of(A) == []
