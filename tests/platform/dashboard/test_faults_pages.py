"""The Faults page, in process: list, add, refuse with the field named, clear one or all."""

from __future__ import annotations

from urllib.parse import quote

from dojo_epos.platform.faults import Fault, FaultKind
from tests.platform.conftest import scope_of

from .conftest import Rig


async def test_a_fault_added_by_the_form_is_listed_and_acts_on_the_next_call(rig: Rig) -> None:
    await rig.register()
    posted = await rig.http.post("/dashboard/faults", params={"scope": rig.token}, data={
        "kind": "rest-delay", "capability": "GetOrderById", "delay": "0.2", "times": "1"})
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/dashboard/faults?scope={quote(rig.token)}"
    (fault,) = rig.platform.faults.of(scope_of())
    assert (fault.kind, fault.capability, fault.delay, fault.times) == (
        FaultKind.REST_DELAY, "GetOrderById", 0.2, 1)
    page = await rig.page("/dashboard/faults")
    assert page.status_code == 200
    assert fault.id in page.text and "fault " + fault.id + " (rest-delay 0.2 s on GetOrderById)" in page.text
    outcome = await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": "nope"})
    assert (outcome.detail or "").startswith(fault.describe()) and outcome.duration_ms >= 200
    assert "No fault is set" in (await rig.page("/dashboard/faults")).text  # used up


async def test_a_refused_fault_reshows_the_form_with_the_field_named(rig: Rig) -> None:
    await rig.register()
    for form, message in [({"kind": "close", "closeCode": "1000"}, "closeCode: one of"),
                          ({"kind": "delay", "delay": "soon"}, "delay: a number, not"),
                          ({"kind": "nonsense"}, "kind: &#39;nonsense&#39; is not one of")]:
        page = await rig.http.post("/dashboard/faults", params={"scope": rig.token}, data=form)
        assert page.status_code == 400
        assert message in page.text, page.text
        assert rig.platform.faults.of(scope_of()) == []


async def test_faults_are_cleared_one_at_a_time_or_all(rig: Rig) -> None:
    await rig.register()
    book = rig.platform.faults
    first = await book.put(scope_of(), Fault(FaultKind.REST_RESET))
    await book.put(scope_of(), Fault(FaultKind.NEVER_ANSWER))
    await book.put(scope_of(), Fault(FaultKind.CLOSE, close_code=4000))
    one = await rig.http.post("/dashboard/faults/clear", params={"scope": rig.token},
                              data={"fault": first.id})
    assert one.status_code == 303 and len(book.of(scope_of())) == 2
    assert first.id not in (await rig.page("/dashboard/faults")).text
    every = await rig.http.post("/dashboard/faults/clear", params={"scope": rig.token},
                                data={"fault": ""})
    assert every.status_code == 303 and book.of(scope_of()) == []


async def test_a_form_from_another_origin_changes_nothing(rig: Rig) -> None:
    await rig.register()
    refused = await rig.http.post("/dashboard/faults", params={"scope": rig.token},
                                  data={"kind": "rest-reset"}, headers={"Origin": "http://evil"})
    assert refused.status_code == 403 and rig.platform.faults.of(scope_of()) == []


async def test_the_overview_and_the_calls_page_say_when_faults_are_set(rig: Rig) -> None:
    """So that a failure a fault caused is not taken for the EPOS's."""
    await rig.register()
    assert "none set" in (await rig.page("/dashboard")).text
    assert "calls may fail on purpose" not in (await rig.page("/dashboard/calls")).text
    await rig.platform.faults.put(scope_of(), Fault(FaultKind.REST_RESET))
    assert "1 set</a>" in (await rig.page("/dashboard")).text
    assert "1 fault set for this account: calls may fail on purpose" in (
        await rig.page("/dashboard/calls")).text
