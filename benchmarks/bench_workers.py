"""6. Workers: the platform on several processes, calls routed through NATS.

**Routed invocation.** Two platform workers (separate processes, one SQLite file, the machine's NATS
at 127.0.0.1:4222) and an EPOS connector (in-memory handler) holding its socket on worker A. With 32
calls in flight, ``Platform.invoke`` on worker B (every call crosses NATS to A and back) is set
against ``Platform.invoke`` on A itself (the in-process path), in the same run.

**Pay at Table on one worker and on two.** ``dojo-epos platform serve --workers N`` (N = 1, then 2) on
PostgreSQL and NATS, the reference EPOS served over REST by another process, and the load from this
one: flows started through the tester API, each on a table of its own with an order opened just
for it, ``FLOW_CONCURRENCY`` at a time, each polled until it ends. The figure is flows per second
with two workers against one. The machine has two cores shared by every process here (and by
whatever else runs on it), so figures are indicative.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.bench_ws import KEY, SOFTWARE_HOUSE
from benchmarks.datasets import history_id, seeded_sqlite, sqlite_url
from benchmarks.harness import Config, Figure, Report, Target, closed_loop
from benchmarks.procs import ROOT, Child, child_main, command, emit, serve_app

__all__ = ["run"]

NATS_URL = os.environ.get("DOJO_EPOS_NATS_URL", "nats://127.0.0.1:4222")
PG_URL = os.environ.get("DOJO_EPOS_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
INFLIGHT = 32
ROUTED_TARGET = Target("ratio", ">=", 0.5)
SCALING_TARGET = Target("ratio", ">=", 1.6)
FLOW = "Pay at Table"
FLOW_CONCURRENCY = 8
FLOW_KEY = "sk_sandbox_workersflows0123456789"
USER, PASSWORD = "bench", "bench-password-123"


async def run(cfg: Config, report: Report) -> list[Figure]:
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    report.context["workers"] = {"bus": NATS_URL, "inflight": INFLIGHT,
                                 "flow_concurrency": FLOW_CONCURRENCY, "cpus": os.cpu_count()}
    figures = [await _routed(cfg, namespace)]
    figures.append(await _flows(cfg, namespace))
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


# -- Pay at Table on one and two workers ------------------------------------------------------------


async def _flows(cfg: Config, namespace: str) -> Figure:
    flows = max(16, cfg.flow_runs * 4)
    database = await _fresh_pg()
    epos = await Child.start("benchmarks.bench_workers", "epos", {})
    rates: dict[int, dict[str, Any]] = {}
    try:
        epos_port = (await epos.read())["port"]
        for workers in (1, 2):
            await epos.send({"open": flows})
            tables = (await epos.read())["tables"]
            rates[workers] = await _measure_flows(database, workers, f"{namespace}-{workers}",
                                                  epos_port, tables, epos.proc.pid)
    finally:
        await epos.stop()
        await _drop_pg(database)
    one, two = rates[1], rates[2]
    busy = ", ".join(f"{k} {one['cores_busy'][k]:.2f}/{two['cores_busy'][k]:.2f}"
                     for k in ("platform", "epos", "load", "other"))
    return Figure(
        "workers.pay_at_table.two_vs_one", two["rate"], "flows/s", one["rate"], SCALING_TARGET,
        f"{flows} flows, {FLOW_CONCURRENCY} at a time, REST EPOS; two workers vs one on "
        f"{os.cpu_count()} cores shared with the EPOS and the load; cores busy (1/2 workers): "
        f"{busy}", {"one": one, "two": two})


async def _measure_flows(database: str, workers: int, namespace: str, epos_port: int,
                         tables: list[str], epos_pid: int) -> dict[str, Any]:
    import httpx

    log = Path(tempfile.mkstemp(prefix="dojo-epos-workers-", suffix=".log")[1])
    with log.open("w") as sink:  # the CLI reports on stderr; a file never fills up like a pipe
        proc = subprocess.Popen(
            [sys.executable, "-m", "dojo_epos.cli", "platform", "serve", "--port", "0",
             "--workers", str(workers), "--db", database, "--bus", NATS_URL, "--bus-namespace",
             namespace, "--log-level", "warning", "--call-timeout", "30"],
            stdout=sink, stderr=subprocess.STDOUT, cwd=str(ROOT), env={**os.environ, "COLUMNS": "200"})
    try:
        deadline = time.monotonic() + 30
        while "http://" not in (text := log.read_text()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"platform serve did not start: {text[-2000:]}")
            await asyncio.sleep(0.05)
        base = "http://" + text.split("http://", 1)[1].split()[0]
        headers = {"Authorization": f"Basic {FLOW_KEY}", "software-house-id": SOFTWARE_HOUSE}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60,
                                     limits=httpx.Limits(max_connections=64)) as client:
            await _until_up(base, workers)
            caps = ["SearchOrders", "GetOrderById", "RecordOrderPayment", "CreateOrderLock",
                    "DeleteOrderLock", "ExtendOrderLock", "GetOrderBill"]
            registered = await client.put("/epos/integrations/rest", json={
                "url": f"http://127.0.0.1:{epos_port}",
                "auth": {"basic": {"username": USER, "password": PASSWORD}},
                "capabilities": [{"name": c, "version": "v1"} for c in caps]})
            registered.raise_for_status()
            queue = list(tables)
            done: list[float] = []
            failed: list[str] = []

            async def one_flow(table: str) -> None:
                began = time.perf_counter()
                response = await client.post("/epos-tester-tool/flows",
                                             json={"flow": FLOW, "params": {"tableId": table}})
                response.raise_for_status()
                flow_id = response.json()
                while True:
                    await asyncio.sleep(0.1)  # as a client following a run would
                    result = (await client.get(f"/epos-tester-tool/flows/{flow_id}")).json()
                    if result["status"] != "IN_PROGRESS":
                        break
                if result["status"] != "SUCCESS":
                    failed.append(str(result)[:400])
                done.append(time.perf_counter() - began)

            async def loop() -> None:
                while queue:
                    await one_flow(queue.pop())

            cpu_before = {"platform": _cpu_seconds(proc.pid), "epos": _cpu_seconds(epos_pid),
                          "load": time.process_time(), "machine": _machine_busy_seconds()}
            started = time.perf_counter()
            await asyncio.gather(*(loop() for _ in range(FLOW_CONCURRENCY)))
            elapsed = time.perf_counter() - started
            cpu = {"platform": _cpu_seconds(proc.pid), "epos": _cpu_seconds(epos_pid),
                   "load": time.process_time(), "machine": _machine_busy_seconds()}
            # Cores each kept busy during the load: where the time went (see the README).
            cores = {k: round((cpu[k] - cpu_before[k]) / elapsed, 2) for k in cpu}
            cores["other"] = round(cores["machine"] - cores["platform"] - cores["epos"]
                                   - cores["load"], 2)
        if failed:
            raise RuntimeError(f"{len(failed)} {FLOW} flows failed on {workers} workers: {failed[0]}")
        done.sort()
        return {"rate": len(done) / elapsed, "flows": len(done), "seconds": round(elapsed, 2),
                "p50_ms": round(done[len(done) // 2] * 1000, 1), "workers": workers,
                "cores_busy": cores}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.unlink(missing_ok=True)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its children that are still running (by parent)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _machine_busy_seconds() -> float:
    """CPU seconds every process on the machine used, from /proc/stat (all cores)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def _until_up(base: str, workers: int) -> None:
    """Until every worker has answered (a new connection each time: any worker may take it)."""
    import httpx

    seen: set[str] = set()
    deadline = time.monotonic() + 30
    while len(seen) < workers:
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(base_url=base) as probe:
                response = await probe.get("/healthz")
            if response.status_code == 200:
                seen.add(response.json()["worker"])
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workers} workers did not come up (saw {sorted(seen)})")
        await asyncio.sleep(0.05)


async def _epos(args: dict[str, Any]) -> None:
    """The reference EPOS on a fresh SQLite file over REST; on ``open`` it adds tables and opens
    one order on each, and answers with their ids."""
    from sqlalchemy import insert

    from dojo_epos.epos.reference import open_reference, schema, till
    from dojo_epos.epos.reference.menu import line
    from dojo_epos.epos.reference.seed import seed_database
    from dojo_epos.epos.rest import build_rest_app

    with tempfile.TemporaryDirectory() as tmp:
        epos = await open_reference(f"sqlite:///{Path(tmp) / 'epos.sqlite3'}")
        await seed_database(epos.db)
        served = await serve_app(build_rest_app(epos, username=USER, password=PASSWORD))
        emit({"port": served.port})
        made = 0
        while cmd := await command():
            count = int(cmd["open"])
            ids = [f"BT{made + n:05d}" for n in range(count)]
            made += count
            async with epos.db.write() as conn:
                await conn.execute(insert(schema.tables), [
                    {"id": t, "name": f"Bench {t}", "area_id": "area_main", "max_covers": 4,
                     "position": 100 + n} for n, t in enumerate(ids)])
            for table in ids:
                await till.open_order(epos.db, table, None, [line("MN-BURG", 2), line("DR-LAGR", 2)])
            emit({"tables": ids})
        await served.stop()
        await epos.aclose()


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
    child_main({"worker": _worker, "epos": _epos})
