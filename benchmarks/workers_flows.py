"""6b. Pay at Table on one platform worker and on two (``workers.pay_at_table.two_vs_one``).

What it measures: the platform's flow throughput, so everything around the platform is made cheap
and plentiful, as in the shared sandbox the figure is about (many EPOSes connected, many flows at
once):

* ``dojo-epos platform serve --workers N`` (N = 1, then 2) on a fresh PostgreSQL database each and
  NATS: the real multi-worker platform, every call through ``Platform.invoke`` and the call log.
* ``ACCOUNTS`` sandbox accounts (API keys), each with a REST registration of an EPOS of its own:
  :class:`~benchmarks.handlers.TableOrdersHandler` (in memory, real lock and payment semantics; a
  table whose order is settled gets a new one, as when the next party sits down), served in
  ``EPOS_PROCESSES`` processes. An EPOS call costs its HTTP handling and nothing else.
  By default the EPOS is :class:`~benchmarks.plain_epos.PlainRestEpos` (the REST app's contract
  work on a bare asyncio server; ``BENCH_WORKERS_EPOS=uvicorn`` for the REST app on uvicorn).
* The load (this process): ``concurrency`` flows kept in flight, spread over the accounts, each
  on a table of its own, until ``waves * concurrency`` have started. A flow is started through the
  tester API and followed cheaply (a poll costs the platform the whole result): its first poll
  comes at 0.8x the flows' median duration so far, then one every tenth of it. Throughput counts
  the flows whose *own recorded* ``finishedAt`` falls between the end of the first wave and the
  last start (every slot busy), so neither the ramps nor a poll's delay blur it.
* The knee: the concurrency ladder ``LADDER`` is run on each worker count; the figure sets two
  workers' best rate against one worker's best rate (each at its own knee), and the details keep
  every step (rate, p50, cores busy) so the same-concurrency ratio can be read too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.harness import Config, Figure, Target
from benchmarks.plain_http import PlainClient
from benchmarks.procs import ROOT, Child, command, emit, serve_app

__all__ = ["epos_role", "pay_at_table_flows"]

NATS_URL = os.environ.get("DOJO_EPOS_NATS_URL", "nats://127.0.0.1:4222")
PG_ADMIN = os.environ.get("DOJO_EPOS_PG_URL", "postgresql://postgres@127.0.0.1:5432/test").replace(
    "postgresql+asyncpg://", "postgresql://")
SCALING_TARGET = Target("ratio", ">=", 1.6)
FLOW = "Pay at Table"
ACCOUNTS = 8
EPOS_PROCESSES = 2
LADDER = (4, 8, 16, 32)
POLL = 0.2
#: ``plain`` (:mod:`benchmarks.plain_epos`) or ``uvicorn`` (the REST app as ``epos serve`` runs it).
EPOS_SERVER = os.environ.get("BENCH_WORKERS_EPOS", "plain")
SOFTWARE_HOUSE = "workers-bench-house"
USER, PASSWORD = "bench", "bench-password-123"
CAPABILITIES = ["SearchOrders", "GetOrderById", "RecordOrderPayment", "CreateOrderLock",
                "DeleteOrderLock", "ExtendOrderLock", "GetOrderBill"]


def account_key(n: int) -> str:
    return f"sk_sandbox_workersflows{n:02d}0123456789"


async def pay_at_table_flows(cfg: Config, namespace: str, fresh_pg: Any, drop_pg: Any) -> Figure:
    waves = 8 if cfg.flow_runs >= 10 else 3
    ladder = LADDER if cfg.flow_runs >= 10 or len(LADDER) < 3 else LADDER[1::2]
    per_process = -(-ACCOUNTS // EPOS_PROCESSES)
    tables = -(-max(ladder) // ACCOUNTS)
    eposes = [await Child.start("benchmarks.workers_flows", "epos",
                                {"accounts": per_process, "tables": tables, "server": EPOS_SERVER})
              for _ in range(EPOS_PROCESSES)]
    steps: dict[int, list[dict[str, Any]]] = {}
    try:
        ports = [p for e in eposes for p in (await e.read())["ports"]][:ACCOUNTS]
        pids = [e.proc.pid for e in eposes if e.proc.pid is not None]
        for workers in (1, 2):
            database = await fresh_pg()
            try:
                steps[workers] = await _run_workers(database, workers, f"{namespace}-{workers}",
                                                    ports, tables, pids, ladder, waves)
            finally:
                await drop_pg(database)
    finally:
        for e in eposes:
            await e.stop()
    best = {w: max(s, key=lambda r: r["rate"]) for w, s in steps.items()}
    one, two = best[1], best[2]
    busy = ", ".join(f"{k} {one['cores_busy'][k]:.2f}/{two['cores_busy'][k]:.2f}"
                     for k in (*PARTS, "other"))
    # The most two cores allow: one worker has one core, two share both with the rest (R).
    spent = one["cpu_ms_per_flow"]
    rest = sum(spent[k] for k in PARTS if k != "platform")
    ceiling = 2 * spent["platform"] / (spent["platform"] + rest) if spent["platform"] else 0.0
    same = {r["concurrency"]: r["rate"] for r in steps[2]}
    at_knee = same.get(one["concurrency"], 0.0) / one["rate"] if one["rate"] else 0.0
    return Figure(
        "workers.pay_at_table.two_vs_one", two["rate"], "flows/s", one["rate"], SCALING_TARGET,
        f"{ACCOUNTS} accounts, in-memory REST EPOSes; best of {list(ladder)} in flight: one worker "
        f"{one['rate']:.1f}/s at {one['concurrency']}, two {two['rate']:.1f}/s at "
        f"{two['concurrency']} (at {one['concurrency']}: {at_knee:.2f}x); cores busy (1/2 workers):"
        f" {busy} of {os.cpu_count()}; CPU a flow (one worker) platform {spent['platform']:.0f} ms,"
        f" the rest {rest:.0f} ms: at most {ceiling:.2f}x on two cores",
        {"one": one, "two": two, "ladder": {str(w): s for w, s in steps.items()},
         "waves": waves, "accounts": ACCOUNTS, "ceiling": round(ceiling, 2)})


async def _run_workers(database: str, workers: int, namespace: str, ports: list[int], tables: int,
                       epos_pids: list[int], ladder: tuple[int, ...],
                       waves: int) -> list[dict[str, Any]]:
    from sqlalchemy.engine import make_url

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
        await _until_up(base, workers)
        host, port_text = base.removeprefix("http://").rsplit(":", 1)
        # The load's own client: httpx's CPU a request would be taken from the platform.
        clients = [PlainClient(host, int(port_text), {
            "authorization": f"Basic {account_key(n)}", "software-house-id": SOFTWARE_HOUSE})
            for n in range(len(ports))]
        try:
            for client, port in zip(clients, ports, strict=True):
                status, answer = await client.request("PUT", "/epos/integrations/rest", {
                    "url": f"http://127.0.0.1:{port}",
                    "auth": {"basic": {"username": USER, "password": PASSWORD}},
                    "capabilities": [{"name": c, "version": "v1"} for c in CAPABILITIES]})
                if status != 200:
                    raise RuntimeError(f"registration refused ({status}): {answer}")
            results = []
            profilers = _profile(proc.pid, workers)
            for concurrency in ladder:
                step = await _step(clients, tables, concurrency, waves, proc.pid, epos_pids,
                                   make_url(database).database or "")
                results.append({"workers": workers, **step})
                if os.environ.get("BENCH_WORKERS_VERBOSE"):
                    print(f"workers={workers} {step}", file=sys.stderr, flush=True)
            for profiler in profilers:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(30)
            return results
        finally:
            for client in clients:
                await client.aclose()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.unlink(missing_ok=True)


async def _step(clients: list[Any], tables: int, concurrency: int, waves: int,
                platform_pid: int, epos_pids: list[int], database: str) -> dict[str, Any]:
    """``concurrency`` flows kept in flight until ``waves * concurrency`` have started.

    The rate counts the flows whose own recorded ``finishedAt`` falls between the end of the first
    wave (the ``concurrency``-th flow to end: the start-up burst is behind) and the start of the
    last flow (until then every slot was busy): the steady state, timed by the platform's records.
    """
    durations: list[float] = []  # of the flows ended so far, as the platform recorded them
    finished: list[float] = []  # wall-clock finishedAt of every flow that ended
    failed: list[str] = []
    left = waves * concurrency
    polls = 0
    last_start = 0.0

    async def one_flow(client: Any, table: str) -> None:
        nonlocal last_start, polls
        last_start = sent = time.time()
        status, flow_id = await client.request(
            "POST", "/epos-tester-tool/flows", {"flow": FLOW, "params": {"tableId": f"T{table}"}})
        if status != 200:
            raise RuntimeError(f"the flow was not started ({status}): {flow_id}")
        # Polls cost both sides CPU (the platform sends the whole result): the first comes when
        # most flows are done, then one every tenth of a flow's time (a quarter of the flow's age
        # before any has ended), so a slot waits little once its flow has ended.
        typical = statistics.median(durations[-50:]) if durations else None
        await asyncio.sleep(0.8 * typical if typical else 0.5)
        while True:
            polls += 1
            _status, result = await client.request("GET", f"/epos-tester-tool/flows/{flow_id}")
            if result["status"] != "IN_PROGRESS":
                break
            age = time.time() - sent
            await asyncio.sleep(max(POLL, 0.1 * typical if typical else 0.25 * age))
        if result["status"] != "SUCCESS":
            failed.append(str([s for s in result["steps"] if s["status"] != "SUCCESS"])[:1500])
            return
        began, ended = (datetime.fromisoformat(result[k]).timestamp()
                        for k in ("startedAt", "finishedAt"))
        durations.append(ended - began)
        finished.append(ended)

    async def slot(n: int) -> None:
        nonlocal left
        client = clients[n % len(clients)]
        table = f"{n // len(clients):03d}"
        assert int(table) < tables
        while left > 0 and not failed:
            left -= 1
            await one_flow(client, table)

    start = time.time()
    sessions = await _sessions(database)
    before = _cpu(platform_pid, epos_pids, database)
    await asyncio.gather(*(slot(n) for n in range(concurrency)))
    cpu = _cpu(platform_pid, epos_pids, database)
    elapsed = time.time() - start
    sessions = await _sessions(database) - sessions
    if failed:
        raise RuntimeError(f"{len(failed)} {FLOW} flows failed: {failed[0]}")
    finished.sort()
    window = (finished[concurrency - 1], last_start)
    counted = [t for t in finished if window[0] < t <= window[1]]
    rate = len(counted) / (window[1] - window[0]) if window[1] > window[0] else 0.0
    # CPU over the whole step (the ends included), per flow over every flow of the step.
    spent = {k: cpu[k] - before[k] for k in ("machine", "load")}
    spent.update({k: _spent(before, cpu, k) for k in PARTS if k != "load"})
    cores = {k: round(v / elapsed, 2) for k, v in spent.items()}
    cores["other"] = round(cores["machine"] - sum(cores[k] for k in PARTS), 2)
    per_flow = {k: round(spent[k] / len(finished) * 1000, 1) for k in PARTS}
    per_worker = [round((cpu["platform"].get(p, 0.0) - before["platform"].get(p, 0.0)) / elapsed, 2)
                  for p in sorted(cpu["platform"])]
    return {"concurrency": concurrency, "rate": round(rate, 2), "flows": len(finished),
            "counted": len(counted), "window_s": round(window[1] - window[0], 2),
            "p50_ms": round(statistics.median(durations) * 1000, 1), "polls": polls,
            "pg_sessions": sessions,
            "cores_busy": cores, "worker_cores": per_worker, "cpu_ms_per_flow": per_flow}


def _profile(platform_pid: int, workers: int) -> list[subprocess.Popen[bytes]]:
    """With ``BENCH_WORKERS_PYSPY=<dir>``, py-spy records each platform worker while the ladder
    runs (speedscope files ``<dir>/w<workers>-<pid>.json``)."""
    where = os.environ.get("BENCH_WORKERS_PYSPY")
    if not where:
        return []
    pids = [int(p) for p in Path(f"/proc/{platform_pid}/task/{platform_pid}/children")
            .read_text().split()] if workers > 1 else [platform_pid]
    return [subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--rate", "50", "--format", "speedscope",
         "-o", str(Path(where) / f"w{workers}-{pid}.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in pids]


#: Where the CPU goes: the platform (its processes), the EPOSes, the load (this process), and the
#: platform's own services (PostgreSQL's and NATS's processes); ``other`` is the rest of the machine.
PARTS = ("platform", "epos", "load", "postgres", "nats")


def _cpu(platform_pid: int, epos_pids: list[int], database: str) -> dict[str, Any]:
    """CPU seconds so far: per process of each of :data:`PARTS` but the load (pid -> seconds),
    this process's, and the machine's. PostgreSQL's are its backends serving ``database`` (its
    own background writers, shared with every other database, count as ``other``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, Any] = {k: {} for k in PARTS if k != "load"}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError, IndexError):
            continue
        fields = rest.split()
        pid, parent = int(entry.name), int(fields[1])
        part = ("platform" if platform_pid in (pid, parent) else "epos" if pid in epos_pids
                else "nats" if name == "nats-server" else None)
        if name == "postgres" and _serves(entry, database):
            part = "postgres"
        if part is not None:
            used[part][pid] = (int(fields[11]) + int(fields[12])) / ticks
    stat = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return {**used, "load": time.process_time(),
            "machine": (sum(stat[:8]) - stat[3] - stat[4]) / ticks}


async def _sessions(database: str) -> int:
    """PostgreSQL sessions opened on ``database`` so far (``pg_stat_database.sessions``): a
    platform that opens a connection per use shows here, and its backends' CPU does not show in
    ``postgres`` (a backend that exits takes its CPU time with it)."""
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        count = await conn.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = $1",
                                    database)
    finally:
        await conn.close()
    return int(count or 0)


def _serves(entry: Path, database: str) -> bool:
    """Whether the PostgreSQL backend ``entry`` serves ``database`` (its title names it)."""
    try:
        return f" {database} " in (entry / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def _spent(before: dict[str, Any], after: dict[str, Any], part: str) -> float:
    """CPU seconds ``part``'s processes used between two :func:`_cpu` readings (a process that
    ended meanwhile is left out: its last seconds are not known)."""
    return sum(t - before[part].get(pid, 0.0) for pid, t in after[part].items())


async def _until_up(base: str, workers: int) -> None:
    """Until every worker has answered (a new connection each time: any worker may take it)."""
    import contextlib

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


async def epos_role(args: dict[str, Any]) -> None:
    """``accounts`` in-memory EPOSes, each on its own port with ``tables`` tables (T000, T001, ...)
    holding an open order each, served by :class:`~benchmarks.plain_epos.PlainRestEpos` (or by the
    REST app on uvicorn with ``"server": "uvicorn"``); answers with their ports."""
    from benchmarks.handlers import TableOrdersHandler
    from benchmarks.plain_epos import PlainRestEpos
    from dojo_epos.epos.rest import build_rest_app

    stops = []
    ports = []
    for _ in range(int(args["accounts"])):
        handler = TableOrdersHandler(reopen=True)
        for n in range(int(args["tables"])):
            handler.open(f"T{n:03d}")
        if args.get("server") == "uvicorn":
            # Idle connections kept longer than the platform's client keeps them (5 s), or the
            # two race to close one and a call can go out on a connection the EPOS is closing.
            app = build_rest_app(handler, username=USER, password=PASSWORD)
            served = await serve_app(app, keep_alive=75.0)
            ports.append(served.port)
            stops.append(served.stop)
        else:
            plain = PlainRestEpos(handler, username=USER, password=PASSWORD)
            ports.append(await plain.start())
            stops.append(plain.stop)
    emit({"ports": ports})
    while await command():
        pass
    for stop in stops:
        await stop()


if __name__ == "__main__":
    from benchmarks.procs import child_main

    child_main({"epos": epos_role})
