"""6. Workers: the platform on several processes, calls routed through NATS.

**Routed invocation.** Two platform workers (separate processes, one SQLite file, the machine's NATS
at 127.0.0.1:4222) and an EPOS connector (in-memory handler) holding its socket on worker A. With 32
calls in flight, ``Platform.invoke`` on worker B (every call crosses NATS to A and back) is set
against ``Platform.invoke`` on A itself (the in-process path), in the same run.

**Pay at Table on one worker and on two.** ``dojo-epos platform serve --workers N`` on PostgreSQL
and NATS, many accounts with cheap in-memory EPOSes, enough flows in flight to saturate the
platform: see :mod:`benchmarks.workers_flows`.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from benchmarks.bench_ws import KEY, SOFTWARE_HOUSE
from benchmarks.datasets import history_id, seeded_sqlite, sqlite_url
from benchmarks.harness import Config, Figure, Report, Target, closed_loop
from benchmarks.procs import Child, child_main, command, emit, serve_app
from benchmarks.workers_flows import pay_at_table_flows

__all__ = ["run"]

NATS_URL = os.environ.get("DOJO_EPOS_NATS_URL", "nats://127.0.0.1:4222")
PG_URL = os.environ.get("DOJO_EPOS_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
INFLIGHT = 32
ROUTED_TARGET = Target("ratio", ">=", 0.5)


async def run(cfg: Config, report: Report) -> list[Figure]:
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    report.context["workers"] = {"bus": NATS_URL, "inflight": INFLIGHT, "cpus": os.cpu_count()}
    figures = [await _routed(cfg, namespace)]
    figures.append(await pay_at_table_flows(cfg, namespace, _fresh_pg, _drop_pg))
    return figures


# -- routed invocation ------------------------------------------------------------------------------


async def _routed(cfg: Config, namespace: str) -> Figure:
    path, _cached = await seeded_sqlite(cfg.cache_dir, cfg.rest_orders)
    order_id = history_id(cfg.rest_orders // 2)
    args = {"seconds": cfg.ws_seconds, "warmup": min(0.5, cfg.ws_seconds / 2), "order_id": order_id,
            "bus": NATS_URL, "namespace": namespace}
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'platform.sqlite3'}"
        a = await Child.start("benchmarks.bench_workers", "worker", {**args, "db_url": db_url})
        # One SQLite file: b starts once a is up, so only one of them creates the schema.
        port_a = (await a.read())["port"]
        b = await Child.start("benchmarks.bench_workers", "worker", {**args, "db_url": db_url})
        try:
            await b.read()
            connector = await Child.start("benchmarks.bench_ws", "connector", {
                "url": f"ws://127.0.0.1:{port_a}/epos", "variant": "memory",
                "db_url": sqlite_url(path), "order_id": order_id})
            try:
                await a.send({"wait_socket": True})
                await a.read()
                await a.send({"measure": True})
                local = await a.read(timeout=120)
                await b.send({"measure": True})
                routed = await b.read(timeout=120)
            finally:
                await connector.stop()
        finally:
            await a.stop()
            await b.stop()
    return Figure(
        f"workers.invoke.routed_nats.inflight_{INFLIGHT}", routed["rate"], "calls/s", local["rate"],
        ROUTED_TARGET,
        f"Platform.invoke on worker B, the socket on worker A, vs on A itself; p50 "
        f"{routed['p50_ms']:.2f} ms vs {local['p50_ms']:.2f} ms",
        {"routed": routed, "in_process": local})


async def _worker(args: dict[str, Any]) -> None:
    from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
    from dojo_epos.platform.accounts import Environment, Scope, fingerprint

    platform = Platform(PlatformSettings(
        db_url=args["db_url"], ping_interval=None, ping_timeout=None, call_timeout=30,
        bus_url=args["bus"], bus_namespace=args["namespace"]))
    await platform.start()
    scope = Scope(Environment.SANDBOX, fingerprint(KEY), SOFTWARE_HOUSE)
    await platform.store.replace_registration(scope, "ws", [("GetOrderById", "v1")])
    served = await serve_app(build_platform_app(platform=platform))
    emit({"port": served.port})
    params = {"orderId": args["order_id"], "headers": {}}

    async def invoke() -> None:
        result = await platform.invoke(scope, "GetOrderById", params)
        if not result.ok:
            raise RuntimeError(f"invoke failed: {result.failure} {result.detail}")

    while cmd := await command():
        if cmd.get("wait_socket"):
            while platform.gateway.connection(scope) is None:
                await asyncio.sleep(0.02)
            emit({"connected": True})
        elif cmd.get("measure"):
            emit(await closed_loop(invoke, concurrency=INFLIGHT, seconds=args["seconds"],
                                   warmup=args["warmup"]))
    await served.stop()
    await platform.close()


async def _fresh_pg() -> str:
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"dojo_epos_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(PG_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False), timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.set(database=name).render_as_string(hide_password=False)


async def _drop_pg(url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await conn.close()


if __name__ == "__main__":
    child_main({"worker": _worker})
