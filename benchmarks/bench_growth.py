"""3. Growth: does a query cost the same at a million orders as at ten thousand?

The reference EPOS is called in-process through :func:`~dojo_epos.epos.handler.call_handler` (no
transport, one call at a time, so only the database and the model building are measured) on
databases seeded with ``Config.growth_sizes`` history orders, SQLite (cached files) and PostgreSQL
(a fresh database grown size by size, analysed after each seeding as autovacuum would).

Queries: GetOrderById of random history orders; SearchOrders as Pay at Table asks (one table,
payable only: a handful of open orders however big the history); SearchOrders of one table's
orders (a full first page of 50 orders out of a twelfth of the history). Each figure is the
median latency at a size, against the median at the smallest size; the target applies to the
largest.

Each SQLite file is read through once before the calls (:func:`~benchmarks.datasets.read_through`),
so a file reused from the cache is in the OS page cache as a file just seeded is: otherwise each
GetOrderById at 1M read about a dozen pages from the disk instead (1.9 ms against 0.9 ms at 10k,
whose few MB the warm-up rounds bring in). GetOrderById never asks for the same order twice at a
size: a repeat would be an order-cache hit, which happens at 10k (a few in 300 draws) and never at
1M.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.datasets import (
    PostgresUnavailable,
    fresh_postgres,
    history_id,
    read_through,
    seeded_sqlite,
    sqlite_url,
)
from benchmarks.harness import Config, Figure, Report, Target, summarize
from dojo_epos.contract.capabilities import lookup
from dojo_epos.epos.handler import call_handler
from dojo_epos.epos.reference import ReferenceEpos, open_reference
from dojo_epos.epos.reference.seed import TABLES, seed_database

__all__ = ["QUERIES", "measure", "run"]

TARGET = Target("ratio", "<=", 2.0)



class Draws(random.Random):
    """The random choices of one size's calls, seeded alike at every size."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self._drawn: set[int] = set()

    def distinct(self, n: int) -> int:
        """A random number below ``n`` not drawn before (once all ``n`` are drawn, anew)."""
        if len(self._drawn) >= n:
            self._drawn.clear()
        while (k := self.randrange(n)) in self._drawn:
            pass
        self._drawn.add(k)
        return k


Query = Callable[[ReferenceEpos, Draws, int], Awaitable[Any]]


async def _get(epos: ReferenceEpos, rng: Draws, orders: int) -> Any:
    return await call_handler(epos, lookup("GetOrderById"),
                              {"orderId": history_id(rng.distinct(orders))}, transport="rest")


async def _search_payable(epos: ReferenceEpos, rng: Draws, orders: int) -> Any:
    table = TABLES[rng.randrange(len(TABLES))][0]
    return await call_handler(epos, lookup("SearchOrders"),
                              {"dineIn": {"tableId": table}, "payableOnly": True},
                              transport="rest")


async def _search_table(epos: ReferenceEpos, rng: Draws, orders: int) -> Any:
    table = TABLES[rng.randrange(len(TABLES))][0]
    return await call_handler(epos, lookup("SearchOrders"), {"dineIn": {"tableId": table}},
                              transport="rest")


QUERIES: dict[str, Query] = {
    "get_order_by_id": _get,
    "search_orders.pay_at_table": _search_payable,
    "search_orders.table_page": _search_table,
}


async def measure(handlers: dict[int, ReferenceEpos],
                  samples: int) -> dict[int, dict[str, dict[str, float]]]:
    """Latency summaries of every query at every size, ``{size: {query: summary}}``.

    Sizes are interleaved call by call, so a burst of noise from elsewhere on the machine hits
    every size alike instead of one of them.
    """
    times: dict[int, dict[str, list[float]]] = {n: {q: [] for q in QUERIES} for n in handlers}
    for name, query in QUERIES.items():
        rngs = {n: Draws(3) for n in handlers}
        for round_no in range(max(5, samples // 10) + samples):
            sizes = list(handlers)
            sizes = sizes[round_no % len(sizes):] + sizes[:round_no % len(sizes)]
            for size in sizes:
                began = time.perf_counter()
                await query(handlers[size], rngs[size], size)
                if round_no >= max(5, samples // 10):  # the first rounds warm the caches
                    times[size][name].append(time.perf_counter() - began)
    return {n: {q: summarize(t) for q, t in by_query.items()} for n, by_query in times.items()}


async def run(cfg: Config, report: Report) -> list[Figure]:
    context: dict[str, Any] = {"sizes": list(cfg.growth_sizes), "samples": cfg.growth_samples,
                               "seed_seconds": {}}
    report.context["growth"] = context
    results: dict[str, dict[int, dict[str, dict[str, float]]]] = {}
    handlers: dict[int, ReferenceEpos] = {}
    paths: dict[int, Path] = {}
    try:
        for size in cfg.growth_sizes:
            began = time.perf_counter()
            path, cached = await seeded_sqlite(cfg.cache_dir, size)
            context["seed_seconds"][f"sqlite.{size}"] = "cached" if cached else round(
                time.perf_counter() - began, 1)
            handlers[size] = await open_reference(sqlite_url(path))
            paths[size] = path
        # Just before the calls, so no seeding of a bigger size can push a smaller one out.
        context["os_cache_seconds"] = {
            f"sqlite.{size}": round(read_through(path), 2) for size, path in paths.items()}
        results["sqlite"] = await measure(handlers, cfg.growth_samples)
    finally:
        for epos in handlers.values():
            await epos.aclose()
    if cfg.postgres:
        try:
            results["postgresql"] = await _postgres(cfg, context)
        except PostgresUnavailable as exc:
            report.skipped["growth.postgresql"] = f"PostgreSQL unreachable: {exc}"
    return _figures(cfg, results)


async def _postgres(cfg: Config, context: dict[str, Any]) -> dict[int, Any]:
    """One database per size, each grown from a copy of the one before (CREATE ... TEMPLATE)."""
    urls: dict[int, str] = {}
    handlers: dict[int, ReferenceEpos] = {}
    async with fresh_postgres() as databases:
        try:
            previous: str | None = None
            for size in cfg.growth_sizes:
                began = time.perf_counter()
                urls[size] = await databases.create(template=previous)
                epos = await open_reference(urls[size])
                try:
                    await seed_database(epos.db, size)
                    async with epos.db.engine.connect() as conn:
                        # What autovacuum would have done by now on a live database.
                        await conn.execute(text("COMMIT"))
                        await conn.execute(text("ANALYZE"))
                finally:
                    await epos.aclose()  # a template must have no connections
                context["seed_seconds"][f"postgresql.{size}"] = round(
                    time.perf_counter() - began, 1)
                previous = urls[size]
            for size, url in urls.items():
                handlers[size] = await open_reference(url)
            return await measure(handlers, cfg.growth_samples)
        finally:
            for epos in handlers.values():
                await epos.aclose()


def _figures(cfg: Config, results: dict[str, dict[int, Any]]) -> list[Figure]:
    figures = []
    smallest, largest = cfg.growth_sizes[0], cfg.growth_sizes[-1]
    for db, by_size in results.items():
        for query in QUERIES:
            base = by_size[smallest][query]
            for size in cfg.growth_sizes[1:]:
                got = by_size[size][query]
                figures.append(Figure(
                    f"growth.{db}.{query}.{_short(size)}", got["p50_ms"], "ms", base["p50_ms"],
                    TARGET if size == largest else None,
                    f"p50 vs {_short(smallest)}; p99 {got['p99_ms']:.2f} ms vs "
                    f"{base['p99_ms']:.2f} ms", {"at_size": got, "at_smallest": base}))
    return figures


def _short(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)
