"""The payment storm: the reference EPOS on PostgreSQL behind several server processes and
connectors, many terminals paying at once, and then every order reconciled to the penny."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dojo_epos.epos.reference.db import Database
from dojo_epos.epos.reference.handler import ReferenceEpos
from tests.reliability.epos_server import EposProcess
from tests.reliability.figures import FIGURES
from tests.reliability.rigs import platform_rig
from tests.reliability.storm import (
    PlatformRoute,
    RestRoute,
    Route,
    Storm,
    StormConfig,
    prepare,
    reconcile,
)

USER, PASSWORD = "dojo", "storm-password-8c1f"

pytestmark = [pytest.mark.postgres, pytest.mark.socket]


async def run_storm(pg_url: str, tmp_path: Path, *, processes: int, connectors: int,
                    orders: int, config: StormConfig) -> None:
    order_ids = await prepare(pg_url, orders, seed=config.seed)
    servers = [EposProcess(pg_url, USER, PASSWORD, log_path=tmp_path / f"epos{n}.log")
               for n in range(processes)]
    await asyncio.gather(*(server.start() for server in servers))
    rest = RestRoute([s.base_url for s in servers], USER, PASSWORD)
    rig = await platform_rig(tmp_path, call_timeout=10.0)
    handlers = [ReferenceEpos(Database(pg_url, pool_size=5)) for _ in range(connectors)]
    try:
        for n, handler in enumerate(handlers):
            await rig.attach(handler, f"storm-house-{n}")
        routes: list[Route] = [rest]
        if connectors:
            routes.append(PlatformRoute(rig.platform, rig.scopes))
        result = await Storm(routes, order_ids, config).run()
        reckoning = await reconcile(pg_url, result, order_ids, wire=rest)
    finally:
        await rig.aclose()
        for handler in handlers:
            await handler.aclose()
        await rest.aclose()
        for server in servers:
            server.stop()
    acked = result.acknowledged()
    FIGURES.requests_tried += result.requests
    FIGURES.payments_acknowledged += len(acked)
    FIGURES.payments_reconciled += reckoning.stored
    FIGURES.orders_reconciled += reckoning.orders
    FIGURES.conflicts += result.conflicts
    FIGURES.retries += result.retries
    FIGURES.storm_seconds += result.seconds
    assert not result.refused, result.refused[:5]
    assert not reckoning.problems, reckoning.problems[:10]
    # The storm did what it is for: payments landed, some answers were lost and retried, and
    # the hot orders were fought over.
    assert len(acked) >= config.payments // 2
    assert result.retries > 0
    assert result.conflicts > 0
    assert {i.route for i in result.intents.values() if i.outcome == "ok"} == \
        ({"rest", "ws"} if connectors else {"rest"})


async def test_a_small_storm_on_two_processes_and_a_connector_reconciles(pg_url: str,
                                                                         tmp_path: Path) -> None:
    """~200 payments over two EPOS processes and one connector: every order adds up."""
    await run_storm(pg_url, tmp_path, processes=2, connectors=1, orders=40,
                    config=StormConfig(terminals=16, payments=200, seed=1))


@pytest.mark.slow
async def test_a_large_storm_on_three_processes_and_two_connectors_reconciles(
        pg_url: str, tmp_path: Path) -> None:
    """Thousands of payments, 60 terminals, three processes, two connectors: nothing lost."""
    await run_storm(pg_url, tmp_path, processes=3, connectors=2, orders=400,
                    config=StormConfig(terminals=60, payments=3000, hot_orders=5, seed=2))
