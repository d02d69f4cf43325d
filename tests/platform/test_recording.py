"""Recording a scope's calls (live, through the invoker) and exporting the stored call log."""

from __future__ import annotations

from pathlib import Path

import httpx

from dojo_epos.contract.recording import parse_recording
from dojo_epos.platform import Platform
from dojo_epos.platform.recording import export_calls
from tests.platform.conftest import SANDBOX_KEY, RestEpos, auth_headers, scope_of
from tests.platform.test_invoke_rest import register_rest

OTHER_HOUSE = "other-house"


async def test_a_recording_holds_the_scope_calls_in_order_and_nothing_of_other_scopes(
        http: httpx.AsyncClient, platform: Platform, rest_epos: RestEpos, tmp_path: Path) -> None:
    platform.invoker.set_http_transport(httpx.ASGITransport(app=rest_epos.app()))
    await register_rest(http, ["GetOrderById", "SearchTables"])
    other = await http.put("/epos/integrations/rest", headers=auth_headers(SANDBOX_KEY, OTHER_HOUSE),
                           json={"url": "http://epos.test/dojo",
                                 "capabilities": [{"name": "GetOrderById", "version": "v1"}],
                                 "auth": {"authType": "basic", "basic": {
                                     "username": rest_epos.username,
                                     "password": rest_epos.password}}})
    assert other.status_code == 200, other.text
    path = tmp_path / "calls.jsonl"
    platform.invoker.recorder.start(scope_of(), path)
    await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    await platform.invoke(scope_of(SANDBOX_KEY, OTHER_HOUSE), "GetOrderById", {"orderId": "ord_1"})
    await platform.invoke(scope_of(), "GetOrderById", {"orderId": "nope"})
    await platform.invoke(scope_of(), "SearchTables", {})
    assert platform.invoker.recorder.stop(scope_of()) == path
    await platform.invoke(scope_of(), "SearchTables", {})  # after the stop: not recorded

    text = path.read_text(encoding="utf-8")
    recording = parse_recording(text.splitlines())
    assert recording.header["version"] == 1
    assert recording.header["scope"].endswith("/" + scope_of().software_house_id)
    assert [c.capability for c in recording.calls] == ["GetOrderById", "GetOrderById", "SearchTables"]
    first, missing, tables = recording.calls
    assert first.transport == "rest" and first.outcome == "ok"
    assert first.params["orderId"] == "ord_1"
    assert first.answer["result"]["id"] == "ord_1"
    assert missing.answer["error"]["errorType"] == "NotFound"
    assert [t["id"] for t in tables.answer["result"]["data"]] == ["T1", "T2"]
    assert SANDBOX_KEY not in text and rest_epos.password not in text


async def test_the_stored_call_log_exports_to_the_same_calls(
        http: httpx.AsyncClient, platform: Platform, rest_epos: RestEpos, tmp_path: Path) -> None:
    platform.invoker.set_http_transport(httpx.ASGITransport(app=rest_epos.app()))
    await register_rest(http, ["GetOrderById", "ExtendOrderLock"])
    path = tmp_path / "live.jsonl"
    platform.invoker.recorder.start(scope_of(), path)
    await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    await platform.invoke(scope_of(), "ExtendOrderLock", {
        "orderId": "ord_1", "lockId": "l1", "expiry": "2030-01-01T00:00:00Z"})
    platform.invoker.recorder.stop(scope_of())
    await platform.invoker.flush_log()
    rows = list(reversed(await platform.store.calls(scope_of())))
    exported, left_out = export_calls(rows)
    live = parse_recording(path.read_text(encoding="utf-8").splitlines()).calls
    assert left_out == 0
    assert [(c.capability, c.answer) for c in exported] == [(c.capability, c.answer) for c in live]
    assert exported[1].params["orderId"] == "ord_1" and exported[1].params["lockId"] == "l1"
    assert exported[1].params["expiry"] == live[1].params["expiry"]
