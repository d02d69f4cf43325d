"""1. REST: the reference EPOS's GetOrderById and SearchOrders under load, against a bare app.

Both servers are one uvicorn worker in a process of its own, on the same settings; the load comes
from a third process (:mod:`benchmarks.loadgen`) at fixed concurrency. The EPOS runs on the cached
SQLite database of ``Config.rest_orders`` orders; GetOrderById walks a sample of history order ids,
SearchOrders asks what Pay at Table asks (one table, payable orders only).

The baseline is a raw ASGI callable (no framework) answering every request with bytes of an answer
the EPOS gave, so the same bytes cross the same server: the ratio is what the framework, auth,
validation, the database and serialization cost together.
"""

from __future__ import annotations

import base64
import json
import random
import tempfile
from pathlib import Path
from typing import Any

import httpx

from benchmarks.datasets import history_id, seeded_sqlite, sqlite_url
from benchmarks.handlers import FixedOrderHandler, load_order
from benchmarks.harness import Config, Figure, Report, Target
from benchmarks.loadgen import LoadResult, RequestSpec, combine, run_load
from benchmarks.procs import Child, child_main, command, emit, serve_app

__all__ = ["run"]

USER, PASSWORD = "bench", "bench-password-123"
SEARCH_BODY = {"dineIn": {"tableId": "T1"}, "payableOnly": True}
#: GetOrderById with the order cache (1,000 distinct orders, no writes: every read after the
#: first round is a hit) and without it (every read builds the order from the database).
GET_CACHED_TARGET = Target("ratio", ">=", 0.6)
GET_UNCACHED_TARGET = Target("ratio", ">=", 0.35)
SEARCH_TARGET = Target("ratio", ">=", 0.3)


def _auth() -> dict[str, str]:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def specs(orders: int, sample: int = 1000) -> dict[str, RequestSpec]:
    """The two request mixes, keyed by figure name."""
    rng = random.Random(8)
    ids = [history_id(n) for n in rng.sample(range(orders), min(sample, orders))]
    return {
        "get_order_by_id": RequestSpec("GET", tuple(f"/v1/orders/{i}" for i in ids),
                                       headers=_auth()),
        "search_orders": RequestSpec(
            "POST", ("/v1/orders/search",), json.dumps(SEARCH_BODY).encode(),
            {**_auth(), "Content-Type": "application/json"}),
    }


async def run(cfg: Config, report: Report) -> list[Figure]:
    path, cached = await seeded_sqlite(cfg.cache_dir, cfg.rest_orders)
    report.context["rest"] = {"orders": cfg.rest_orders, "database_cached": cached,
                       "concurrency": cfg.http_concurrency, "seconds": cfg.load_seconds}
    mixes = specs(cfg.rest_orders)
    db_url = sqlite_url(path)
    epos = await Child.start("benchmarks.bench_rest", "epos", {"db_url": db_url})
    uncached = await Child.start("benchmarks.bench_rest", "epos", {
        "db_url": db_url, "order_cache": False})
    memory = await Child.start("benchmarks.bench_rest", "epos", {
        "db_url": db_url, "memory_order_id": _first_id(mixes)})
    bare: Child | None = None
    try:
        epos_port = (await epos.read())["port"]
        uncached_port = (await uncached.read())["port"]
        memory_port = (await memory.read())["port"]
        bodies = await _sample(epos_port, mixes)
        with tempfile.TemporaryDirectory() as tmp:
            files = {}
            for name, body in bodies.items():
                files[name] = str(Path(tmp) / f"{name}.json")
                Path(files[name]).write_bytes(body)
            bare = await Child.start("benchmarks.bench_rest", "bare", {"bodies": files})
            bare_port = (await bare.read())["port"]
        figures: list[Figure] = []
        rounds = rounds_for(cfg.load_seconds)
        report.context["rest"]["rounds"] = rounds
        for name, spec in mixes.items():
            servers = [("bare", bare_port), ("epos", epos_port), ("memory", memory_port)]
            if name == "get_order_by_id":  # the only query the order cache serves
                servers.insert(2, ("uncached", uncached_port))
            # Each server in turn, round after round, rather than each for the whole time: this
            # shared machine's speed drifts over a minute (the bare baseline alone varied by a
            # fifth between runs), and a drift then lands on every side of a ratio alike.
            runs: dict[str, list[LoadResult]] = {label: [] for label, _ in servers}
            for n in range(rounds):
                for label, port in servers:
                    got = await run_load(
                        "127.0.0.1", port, spec, concurrency=cfg.http_concurrency,
                        seconds=cfg.load_seconds / rounds, warmup=cfg.warmup_seconds if n == 0 else 0)
                    if got.errors:
                        raise RuntimeError(f"{label} {name}: {got.errors} failed requests")
                    runs[label].append(got)
            figures += _figures(name, {label: combine(r) for label, r in runs.items()},
                                len(bodies[name]), runs)
        return figures
    finally:
        await epos.stop()
        await uncached.stop()
        await memory.stop()
        if bare is not None:
            await bare.stop()


async def _sample(port: int, mixes: dict[str, RequestSpec]) -> dict[str, bytes]:
    """One real answer per mix (checked to be 200): what the bare app will send back."""
    out = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for name, spec in mixes.items():
            response = await client.request(spec.method, spec.paths[0], content=spec.body,
                                            headers=dict(spec.headers))
            if response.status_code != 200:
                raise RuntimeError(f"{name}: HTTP {response.status_code}: {response.text[:200]}")
            out[name] = response.content
    return out


def rounds_for(load_seconds: float) -> int:
    """Rounds of at least two seconds each (wrk counts whole seconds), at most four."""
    return max(1, min(4, int(load_seconds // 2)))


def _first_id(mixes: dict[str, RequestSpec]) -> str:
    return mixes["get_order_by_id"].paths[0].rsplit("/", 1)[1]


def _figures(name: str, results: dict[str, LoadResult], body_bytes: int,
             runs: dict[str, list[LoadResult]]) -> list[Figure]:
    epos, bare, memory = results["epos"], results["bare"], results["memory"]
    details = ({k: v.to_json() for k, v in results.items()} | {"body_bytes": body_bytes}
               | {"rounds_rps": {k: [r.rps for r in v] for k, v in runs.items()}})
    note = f"{epos.tool}, {body_bytes} B answers"
    if name == "get_order_by_id":
        uncached = results["uncached"]
        return [
            Figure(f"rest.{name}.rps", epos.rps, "req/s", bare.rps, GET_CACHED_TARGET,
                   f"{note}; served by the order cache (no writes between reads)", details),
            Figure(f"rest.{name}.p50", epos.p50_ms, "ms", bare.p50_ms),
            Figure(f"rest.{name}.p99", epos.p99_ms, "ms", bare.p99_ms),
            Figure(f"rest.{name}.no_cache.rps", uncached.rps, "req/s", bare.rps,
                   GET_UNCACHED_TARGET, "order cache off: every read builds the order "
                   "from the database (what a write between reads costs)"),
            Figure(f"rest.{name}.no_cache.p50", uncached.p50_ms, "ms", bare.p50_ms),
            Figure(f"rest.{name}.in_memory_handler.rps", memory.rps, "req/s", bare.rps,
                   notes="same REST app, database taken out (FixedOrderHandler)"),
        ]
    return [
        Figure(f"rest.{name}.rps", epos.rps, "req/s", bare.rps, SEARCH_TARGET,
               f"{note}; no cache serves it", details),
        Figure(f"rest.{name}.p50", epos.p50_ms, "ms", bare.p50_ms),
        Figure(f"rest.{name}.p99", epos.p99_ms, "ms", bare.p99_ms),
        Figure(f"rest.{name}.in_memory_handler.rps", memory.rps, "req/s", bare.rps,
               notes="same REST app, database taken out (FixedOrderHandler)"),
    ]


# -- child processes -----------------------------------------------------------------------------


async def _epos(args: dict[str, Any]) -> None:
    from dojo_epos.epos.handler import EposHandler
    from dojo_epos.epos.reference import ReferenceEpos, open_reference
    from dojo_epos.epos.rest import build_rest_app

    handler: EposHandler
    if args.get("memory_order_id"):
        handler = FixedOrderHandler(await load_order(args["db_url"], args["memory_order_id"]))
    else:
        handler = await open_reference(args["db_url"],
                                       order_cache=args.get("order_cache", True))
    served = await serve_app(build_rest_app(handler, username=USER, password=PASSWORD))
    emit({"port": served.port})
    await command()  # until the parent closes stdin or stops us
    await served.stop()
    if isinstance(handler, ReferenceEpos):
        await handler.aclose()


class BareApp:
    """A raw ASGI app: a fixed JSON body per HTTP method, no routing, no framework."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        body = self.bodies[scope["method"]]
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


async def _bare(args: dict[str, Any]) -> None:
    files = args["bodies"]
    app = BareApp({"GET": Path(files["get_order_by_id"]).read_bytes(),
                   "POST": Path(files["search_orders"]).read_bytes()})
    served = await serve_app(app)
    emit({"port": served.port})
    await command()
    await served.stop()


if __name__ == "__main__":
    child_main({"epos": _epos, "bare": _bare})
