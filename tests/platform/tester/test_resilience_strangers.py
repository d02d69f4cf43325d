"""The resilience flows against EPOSes written by strangers (plain websockets / plain Starlette).

A correct stranger passes each flow; each broken one fails at the step that catches its defect: one
that double-counts a re-sent payment (the same paymentIntentId recorded again), one that never
reconnects after a drop, one too slow for Dojo's time-out once the network adds a delay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dojo_epos.client import PlatformApiError
from dojo_epos.contract.tester_models import FlowResult, Status

from . import strangers
from .strangers import Defect, OrderBook, serve_stranger
from .test_strangers import _explain

FLOWS = {"Lost reply": {"reconnectWithin": "2"}, "Duplicate delivery": {},
         "Slow network": {"delay": "0.2"}}


def _first_failed(result: FlowResult) -> tuple[str, Status, list[str]]:
    for step in result.steps:
        if step.status is not Status.SUCCESS:
            return step.name, step.status, step.additional_information
    raise AssertionError("no step failed:\n" + _explain(result))


def _counted_once(book: OrderBook) -> None:
    for order in book.orders.values():
        intents = [p["paymentIntentId"] for p in order.payments]
        assert len(intents) == len(set(intents)), (order.id, intents)


@pytest.mark.parametrize("flow", sorted(FLOWS))
async def test_a_correct_stranger_passes_each_resilience_flow_over_the_websocket(
        flow: str, tmp_path: Path) -> None:
    book = OrderBook()
    async with serve_stranger(book, "ws", tmp_path) as rig:
        result = await rig.run(flow, **FLOWS[flow])
    assert result.status is Status.SUCCESS, _explain(result)
    _counted_once(book)


DOUBLE_COUNTING = [
    ("ws", "Lost reply", "Re-send the payment with the same paymentIntentId: recorded once"),
    ("rest", "Lost reply", "Record a payment; Dojo times out and sends it again"),
    ("ws", "Duplicate delivery", "The same frame delivered twice (the same JSON-RPC id): recorded once"),
]


@pytest.mark.parametrize(("transport", "flow", "step_name"), DOUBLE_COUNTING)
async def test_an_epos_that_double_counts_a_re_sent_payment_fails_where_it_is_re_sent(
        transport: str, flow: str, step_name: str, tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(Defect.RETRY_COUNTED_TWICE), transport, tmp_path) as rig:
        result = await rig.run(flow, **FLOWS[flow])
    assert result.status is Status.FAILURE, _explain(result)
    name, status, lines = _first_failed(result)
    assert name.startswith(step_name), _explain(result)
    assert any("counted twice" in line for line in lines), lines


async def test_an_epos_that_dedupes_on_the_json_rpc_id_only_fails_at_the_new_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A common shortcut: remember answered request ids. The same frame twice is then answered
    once, but the payment re-sent under a new id is recorded again."""
    answered: dict[Any, str] = {}
    plain = strangers._answer

    async def answer_once_per_id(sock: Any, book: OrderBook, frame: dict[str, Any]) -> None:
        if frame.get("id") in answered:
            await sock.send(answered[frame["id"]])
            return

        class Keep:
            async def send(self, text: str) -> None:
                answered[frame.get("id")] = text
                await sock.send(text)

        await plain(Keep(), book, frame)

    monkeypatch.setattr(strangers, "_answer", answer_once_per_id)
    book = OrderBook(Defect.RETRY_COUNTED_TWICE)
    async with serve_stranger(book, "ws", tmp_path) as rig:
        result = await rig.run("Duplicate delivery")
    assert result.status is Status.FAILURE, _explain(result)
    name, _, lines = _first_failed(result)
    assert name.startswith("The payment re-sent under a new id"), _explain(result)
    assert any("counted twice" in line for line in lines), lines
    passed = next(s for s in result.steps if s.name.startswith("The same frame delivered twice"))
    assert passed.status is Status.SUCCESS


async def test_an_epos_that_never_reconnects_fails_lost_reply_at_the_reconnect(
        tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(), "ws", tmp_path, reconnect=None) as rig:
        result = await rig.run("Lost reply", reconnectWithin="0.5")
    assert result.status is Status.FAILURE, _explain(result)
    name, _, lines = _first_failed(result)
    assert name == "The EPOS reconnects within 0.5 s"
    assert any("did not reconnect" in line for line in lines), lines


@pytest.mark.parametrize("transport", ["rest", "ws"])
async def test_an_epos_too_slow_under_a_network_delay_is_timed_out(
        transport: str, tmp_path: Path) -> None:
    """1 s of its own and 0.6 s of network fit no 1.5 s time-out; it answers in time without delay."""
    book = OrderBook(Defect.SLOW, slow_seconds=1.0)
    async with serve_stranger(book, transport, tmp_path, call_timeout=1.5) as rig:
        result = await rig.run("Slow network", delay="0.6")
    assert result.status is Status.TIMED_OUT, _explain(result)
    name, status, lines = _first_failed(result)
    assert name == "Read the order over a slow network (+0.6 s)", _explain(result)
    assert status is Status.TIMED_OUT
    assert any("past Dojo's time-out of 1.5 s" in line for line in lines), lines
    # the same EPOS read the order without the delay (Fetch the order) within the time-out
    assert next(s for s in result.steps if s.name == "Fetch the order").status is Status.SUCCESS


async def test_duplicate_delivery_says_it_does_not_apply_over_rest(tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(), "rest", tmp_path) as rig:
        result = await rig.run("Duplicate delivery")
    assert result.status is Status.FAILURE
    name, _, lines = _first_failed(result)
    assert name == "Check the run is over the WebSocket"
    assert lines[0].startswith("Duplicate delivery does not apply over REST: ")


async def test_certification_fails_the_resilience_section_of_an_epos_that_never_reconnects(
        tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(), "ws", tmp_path, reconnect=None) as rig:
        result = await rig.run("Certification", products="Pay at Table", reconnectWithin="0.5",
                               delay="0.1")
    assert result.status is Status.FAILURE, _explain(result)
    name, _, _ = _first_failed(result.model_copy(update={"steps": result.steps[1:]}))
    # Keepalive passes; Lost reply, the first to drop the socket, catches it
    assert name == "Resilience: Lost reply: The EPOS reconnects within 0.5 s", _explain(result)
    verdict = result.steps[0]
    assert verdict.status is Status.FAILURE
    assert "Pay at Table: not certified (failed Resilience)" in verdict.additional_information
    assert any(line.startswith("Resilience: FAILURE (Lost reply: ")
               for line in verdict.additional_information), verdict.additional_information


async def test_bad_resilience_parameters_are_refused_before_anything_runs(tmp_path: Path) -> None:
    async with serve_stranger(OrderBook(), "rest", tmp_path) as rig:
        for flow, params, words in (
                ("Lost reply", {"reconnectWithin": "soon"}, "reconnectWithin must be a number"),
                ("Slow network", {"delay": "0"}, "delay must be above 0"),
                ("Certification", {"delay": "-1"}, "delay must be above 0"),
                ("Resilience", {"reconnectWithin": "9999"}, "reconnectWithin must be")):
            with pytest.raises(PlatformApiError) as caught:
                await rig.client.run_flow(flow, params)
            assert words in str(caught.value), (flow, caught.value)
        result = await rig.run("Slow network", delay="30")  # above the 5 s time-out of this rig
    assert result.status is Status.FAILURE
    assert _first_failed(result)[0] == "Check the delay is below Dojo's time-out"
