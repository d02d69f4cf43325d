"""4. Memory: one process holding ``Config.sockets`` connector sockets to the platform.

The platform runs in its own process; the measured process runs one
:class:`~dojo_epos.epos.connector.Connector` per API key (one socket per account is the rule, so
every connector has a key of its own), all sharing one in-memory handler. Its resident memory
(``VmRSS`` from ``/proc/self/status``) is read once the handler is loaded, again when every socket
is connected and idle, and again after the platform has called GetOrderById once on each socket.

The baseline is the same number of bare ``websockets`` client sockets, answering the same call
with a fixed reply, measured the same way in a fresh process. Neither side offers
permessage-deflate (the connector's default; see :mod:`dojo_epos.epos.connector`), so the
baseline is the cheapest socket ``websockets`` makes.

Both children raise their own open-file limit (one descriptor a socket; the platform holds the
other end of every socket), up to the hard limit, which must allow ``Config.sockets`` plus a few
hundred.
"""

from __future__ import annotations

import asyncio
import gc
import json
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.datasets import history_id, seeded_sqlite, sqlite_url
from benchmarks.handlers import FixedOrderHandler, load_order
from benchmarks.harness import Config, Figure, Report, Target
from benchmarks.procs import Child, child_main, command, emit, raise_fd_limit, rss_mb, serve_app

__all__ = ["run"]

SOFTWARE_HOUSE = "bench-house"
#: The whole measuring process with 10,000 connector sockets (quick runs: 1,000) after one call
#: each.
TOTAL_TARGET = Target("value", "<=", 300.0)


def key(i: int) -> str:
    return f"sk_sandbox_memory{i:06d}"


async def run(cfg: Config, report: Report) -> list[Figure]:
    path, _ = await seeded_sqlite(cfg.cache_dir, cfg.rest_orders)
    args = {"db_url": sqlite_url(path), "order_id": history_id(0), "n": cfg.sockets}
    report.context["memory"] = {"sockets": cfg.sockets}
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        platform = await Child.start("benchmarks.bench_memory", "platform", {
            **args, "db_url": f"sqlite:///{Path(tmp) / 'platform.sqlite3'}"})
        try:
            url = f"ws://127.0.0.1:{(await platform.read())['port']}/epos"
            for variant in ("bare", "connector"):
                holder = await Child.start("benchmarks.bench_memory", "holder",
                                           {**args, "url": url, "variant": variant})
                try:
                    numbers = await holder.read(timeout=600)
                    await platform.send({"call": cfg.sockets})
                    called = await platform.read(timeout=600)
                    if called["ok"] != cfg.sockets:
                        raise RuntimeError(f"{variant}: {called['ok']} of {cfg.sockets} answered")
                    await holder.send({"measure": True})
                    numbers.update(await holder.read())
                    out[variant] = numbers
                finally:
                    await holder.stop()
                await platform.send({"drain": True})
                await platform.read(timeout=300)
        finally:
            await platform.stop()
    return _figures(cfg.sockets, out)


def _figures(n: int, out: dict[str, dict[str, float]]) -> list[Figure]:
    c, b = out["connector"], out["bare"]

    def per_socket(numbers: dict[str, float], phase: str) -> float:
        return (numbers[phase] - numbers["before"]) * 1024 / n

    return [
        Figure("memory.per_socket.idle", per_socket(c, "idle"), "KiB", per_socket(b, "idle"),
               notes=f"{n} connectors vs {n} bare websockets clients", details=out),
        Figure("memory.per_socket.after_one_call", per_socket(c, "after"), "KiB",
               per_socket(b, "after")),
        Figure("memory.total_rss", c["after"], "MiB", b["after"], TOTAL_TARGET,
               f"whole process, {n} sockets, after one call each; {c['before']:.0f} MiB "
               "before any socket", details=out),
    ]


def _fd_limit(sockets: int) -> None:
    """Raise the open-file limit for ``sockets`` sockets, or say why the run cannot fit."""
    wanted = sockets + 512  # one descriptor a socket, plus the database, the loop, the pipes
    got = raise_fd_limit(wanted)
    if got < wanted:
        raise RuntimeError(f"open-file limit {got} (the hard limit) is below the {wanted} "
                           f"this run needs for {sockets} sockets: raise it (ulimit -Hn)")


# -- child: the platform ---------------------------------------------------------------------------


async def _platform(args: dict[str, Any]) -> None:
    from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
    from dojo_epos.platform.accounts import Environment, Scope, fingerprint

    _fd_limit(args["n"])
    platform = Platform(PlatformSettings(db_url=args["db_url"], ping_interval=None,
                                         ping_timeout=None, call_timeout=60))
    await platform.start()
    served = await serve_app(build_platform_app(platform=platform))
    emit({"port": served.port})
    scopes = [Scope(Environment.SANDBOX, fingerprint(key(i)), SOFTWARE_HOUSE)
              for i in range(args["n"])]
    params = {"orderId": args["order_id"], "headers": {}}
    slots = asyncio.Semaphore(64)

    async def call(scope: Scope) -> bool:
        async with slots:
            reply = await platform.gateway.call(scope, "GetOrderByIdV1", params)
            return hasattr(reply, "result")

    while cmd := await command():
        if cmd.get("call"):
            while len(platform.gateway.connections()) < cmd["call"]:
                await asyncio.sleep(0.05)
            results = await asyncio.gather(*(call(s) for s in scopes))
            emit({"ok": sum(results)})
        elif cmd.get("drain"):
            while platform.gateway.connections():
                await asyncio.sleep(0.05)
            emit({"drained": True})
    await served.stop()
    await platform.close()


# -- child: the process whose memory is measured ---------------------------------------------------


async def _holder(args: dict[str, Any]) -> None:
    n: int = args["n"]
    _fd_limit(n)
    order = await load_order(args["db_url"], args["order_id"])
    gc.collect()
    before = rss_mb()
    if args["variant"] == "connector":
        stop = await _connectors(args["url"], n, FixedOrderHandler(order))
    else:
        reply = json.dumps({"jsonrpc": "2.0", "id": "__ID__", "result": order.to_wire("ws")})
        stop = await _bare_clients(args["url"], n, reply)
    gc.collect()
    emit({"before": before, "idle": rss_mb()})
    await command()
    gc.collect()
    emit({"after": rss_mb()})
    await command()
    await stop()


async def _connectors(url: str, n: int, handler: FixedOrderHandler) -> Any:
    from dojo_epos.epos.connector import Connector, ConnectorState

    connectors = [Connector(handler, url, key(i), SOFTWARE_HOUSE, open_timeout=300,
                            ping_interval=None) for i in range(n)]
    tasks = [asyncio.ensure_future(c.run()) for c in connectors]
    while not all(c.state is ConnectorState.CONNECTED for c in connectors):
        await asyncio.sleep(0.05)

    async def stop() -> None:
        await asyncio.gather(*(c.stop() for c in connectors))
        await asyncio.gather(*tasks)

    return stop


async def _bare_clients(url: str, n: int, reply: str) -> Any:
    from websockets.asyncio.client import ClientConnection, connect

    async def answer(ws: ClientConnection) -> None:
        async for frame in ws:
            request_id = json.dumps(json.loads(frame)["id"])
            await ws.send(reply.replace('"__ID__"', request_id, 1))

    sockets: list[ClientConnection] = []
    slots = asyncio.Semaphore(100)

    async def open_one(i: int) -> None:
        async with slots:
            sockets.append(await connect(url, ping_interval=None, open_timeout=300,
                                         compression=None, additional_headers={
                                             "Authorization": f"Basic {key(i)}",
                                             "software-house-id": SOFTWARE_HOUSE}))

    await asyncio.gather(*(open_one(i) for i in range(n)))
    readers = [asyncio.ensure_future(answer(ws)) for ws in sockets]

    async def stop() -> None:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    return stop


if __name__ == "__main__":
    child_main({"platform": _platform, "holder": _holder})
