"""The workers benchmark's EPOS: the in-memory table orders on the bare asyncio REST server pass
Pay at Table through the real platform (over loopback), and refuse what the REST app refuses."""

from __future__ import annotations

from pathlib import Path

import httpx
from benchmarks.handlers import TableOrdersHandler
from benchmarks.plain_epos import PlainRestEpos

from dojo_epos.client import AsyncClient
from dojo_epos.contract.tester_models import Status
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, scope_of

USER, PASSWORD = "bench", "bench-password-123"
CAPS = ["SearchOrders", "GetOrderById", "RecordOrderPayment", "CreateOrderLock",
        "DeleteOrderLock", "ExtendOrderLock", "GetOrderBill"]


async def test_pay_at_table_passes_again_and_again_on_one_table(tmp_path: Path) -> None:
    handler = TableOrdersHandler(reopen=True)
    handler.open("T000")
    epos = PlainRestEpos(handler, username=USER, password=PASSWORD)
    port = await epos.start()
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'p.sqlite3'}",
                                         ping_interval=None))
    await platform.start()
    client = AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url="http://platform",
                         transport=httpx.ASGITransport(app=build_platform_app(platform=platform)))
    try:
        await client.put_rest_integration(f"http://127.0.0.1:{port}", [(c, "v1") for c in CAPS],
                                          username=USER, password=PASSWORD)
        for _ in range(2):  # the settled table got a new order: it can be paid at again
            flow_id = await client.run_flow("Pay at Table", {"tableId": "T000"})
            result = await platform.tester.wait(scope_of(), flow_id)
            assert result is not None
            failed = [s for s in result.steps if s.status is not Status.SUCCESS]
            assert result.status is Status.SUCCESS, failed
        assert len(handler.orders) == 3 and not handler.locks
    finally:
        await client.aclose()
        await platform.close()
        await epos.stop()


async def test_wrong_credentials_and_unknown_routes_are_refused_in_the_contract_shape() -> None:
    epos = PlainRestEpos(TableOrdersHandler(), username=USER, password=PASSWORD)
    port = await epos.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            refused = await http.get("/v1/orders/ord_1", auth=(USER, "wrong"))
            assert refused.status_code == 401 and refused.json()["errorType"] == "InvalidRequest"
            missing = await http.get("/v1/orders/ord_1", auth=(USER, PASSWORD))
            assert missing.status_code == 404 and missing.json()["errorType"] == "NotFound"
            nowhere = await http.get("/v1/nowhere", auth=(USER, PASSWORD))
            assert nowhere.status_code == 404
    finally:
        await epos.stop()
