"""5. Flows: the tester's Pay at Table flow end to end, against the sum of its calls.

The local platform and the reference EPOS (a fresh, seeded SQLite database) run in this process on
real loopback sockets: the EPOS's REST app on uvicorn for the REST run, a connector holding a
socket to the platform's gateway for the WebSocket run (each on an account of its own, registered
through the platform API). Before each run the till opens an order on a free table; the flow finds
it, locks it, fetches the bill, pays it in two parts, unlocks it and checks it is settled.

The figure is the median wall time of a run, from ``POST /epos-tester-tool/flows`` until the result
is final, against the median of the summed ``duration_ms`` of that run's calls in the call log: the
ratio is what the flow engine adds (checks, the call log and result writes, scheduling).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.harness import Config, Figure, Report, Target
from benchmarks.procs import serve_app

__all__ = ["run"]

FLOW = "Pay at Table"
TABLE = "T3"  # no seeded open order sits on it
USER, PASSWORD = "bench", "bench-password-123"
KEYS = {"rest": "sk_sandbox_flowsrest0123456789", "ws": "sk_sandbox_flowsws0123456789"}
SOFTWARE_HOUSE = "bench-house"
#: Issue 17: a flow costs at most a tenth more than its calls, on both transports.
TARGET = Target("ratio", "<=", 1.1)


async def run(cfg: Config, report: Report) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        results = await _run_all(Path(tmp), cfg.flow_runs)
    report.context["flows"] = {"flow": FLOW, "runs": cfg.flow_runs}
    figures = []
    for transport, runs in results.items():
        flow_ms = statistics.median(r["flow_ms"] for r in runs)
        calls_ms = statistics.median(r["calls_ms"] for r in runs)
        figures.append(Figure(
            f"flows.pay_at_table.{transport}", flow_ms, "ms", calls_ms, TARGET,
            notes=f"median of {len(runs)} runs vs the sum of their calls "
                  f"({runs[0]['calls']} calls a run); ratio = engine overhead",
            details={"runs": runs}))
    return figures


async def _run_all(tmp: Path, runs: int) -> dict[str, list[dict[str, Any]]]:
    from dojo_epos.client import AsyncClient
    from dojo_epos.epos.connector import Connector, ConnectorState
    from dojo_epos.epos.reference import open_reference
    from dojo_epos.epos.reference.seed import seed_database
    from dojo_epos.epos.rest import build_rest_app
    from dojo_epos.platform import Platform, PlatformSettings, build_platform_app

    epos = await open_reference(f"sqlite:///{tmp / 'epos.sqlite3'}")
    await seed_database(epos.db)
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp / 'platform.sqlite3'}",
                                         ping_interval=None, ping_timeout=None))
    await platform.start()
    platform_server = await serve_app(build_platform_app(platform=platform))
    epos_server = await serve_app(build_rest_app(epos, username=USER, password=PASSWORD))
    base = f"http://127.0.0.1:{platform_server.port}"
    clients = {t: AsyncClient(k, SOFTWARE_HOUSE, base_url=base) for t, k in KEYS.items()}
    caps = [(c.name, "v1") for c in epos.offered_capabilities()]
    connector = Connector(epos, f"ws://127.0.0.1:{platform_server.port}/epos", KEYS["ws"],
                          SOFTWARE_HOUSE, ping_interval=None)
    connecting = asyncio.ensure_future(connector.run())
    try:
        await clients["rest"].put_rest_integration(
            f"http://127.0.0.1:{epos_server.port}", caps, username=USER, password=PASSWORD)
        await clients["ws"].put_ws_integration(caps)
        while connector.state is not ConnectorState.CONNECTED:
            await asyncio.sleep(0.02)
        out: dict[str, list[dict[str, Any]]] = {}
        for transport, client in clients.items():
            out[transport] = [await _one_run(platform, epos, client, transport)
                              for _ in range(runs + 1)][1:]  # the first run warms up
        return out
    finally:
        await connector.stop()
        await connecting
        for client in clients.values():
            await client.aclose()
        await epos_server.stop()
        await platform_server.stop()
        await platform.close()
        await epos.aclose()


async def _one_run(platform: Any, epos: Any, client: Any, transport: str) -> dict[str, Any]:
    from dojo_epos.contract.tester_models import Status
    from dojo_epos.epos.reference import till
    from dojo_epos.epos.reference.menu import line
    from dojo_epos.platform.accounts import Environment, Scope, fingerprint

    scope = Scope(Environment.SANDBOX, fingerprint(KEYS[transport]), SOFTWARE_HOUSE)
    await till.open_order(epos.db, TABLE, "w_alice", [line("MN-BURG", 2), line("DR-LAGR", 2)])
    since = datetime.now(UTC)
    began = time.perf_counter()
    flow_id = await client.run_flow(FLOW, {"tableId": TABLE})
    result = await platform.tester.wait(scope, flow_id)
    flow_ms = (time.perf_counter() - began) * 1000
    if result is None or result.status is not Status.SUCCESS:
        raise RuntimeError(f"{FLOW} over {transport} did not succeed: {result}")
    # The flow's own calls: the HandleEvent notifications the platform sends beside each payment
    # intent's change run in the background, beside the flow, and are not part of its path.
    calls = [c for c in platform.invoker.recent(scope, limit=500)
             if c.started_at >= since and not c.capability.startswith("HandleEvent")]
    return {"flow_ms": flow_ms, "calls_ms": sum(c.duration_ms for c in calls),
            "calls": len(calls)}
