"""7. Sockets: one platform process holding ``Config.gateway_sockets`` EPOS sockets at its gateway.

The platform (uvicorn, the gateway at ``/epos``) runs in its own process and raises its own
open-file limit. The EPOS side is bare ``websockets`` clients in another process, one per API key
(one socket per account is the rule), offering no permessage-deflate, as the connector does by
default (an EPOS that asks for it costs the platform a compressor per socket: about 40 KiB more
each with uvicorn's settings, measured with this benchmark). The platform's resident memory
(``VmRSS``) is read before any socket, when every socket is attached and idle, and after the
platform has called GetOrderById once on each.

The baseline is a bare ``websockets`` server holding the same number of sockets from the same
clients, measured the same way (its handler keeps each socket open and does nothing else).
"""

from __future__ import annotations

import asyncio
import gc
import json
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.datasets import history_id, seeded_sqlite, sqlite_url
from benchmarks.handlers import load_order
from benchmarks.harness import Config, Figure, Report, Target
from benchmarks.procs import Child, child_main, command, emit, raise_fd_limit, rss_mb, serve_app

__all__ = ["run"]

SOFTWARE_HOUSE = "bench-house"
#: The issue's target: 10,000 gateway sockets in one platform process within 400 MiB.
TOTAL_TARGET = Target("value", "<=", 400.0)
TARGET_SOCKETS = 10_000


def key(i: int) -> str:
    return f"sk_sandbox_gateway{i:06d}"


async def run(cfg: Config, report: Report) -> list[Figure]:
    n = cfg.gateway_sockets
    path, _ = await seeded_sqlite(cfg.cache_dir, cfg.rest_orders)
    order_id = history_id(0)
    order = await load_order(sqlite_url(path), order_id)
    reply = json.dumps({"jsonrpc": "2.0", "id": "__ID__", "result": order.to_wire("ws")})
    report.context["sockets"] = {"gateway_sockets": n}
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ("bare", "platform"):
            server = await Child.start("benchmarks.bench_sockets", variant, {
                "n": n, "order_id": order_id,
                "db_url": f"sqlite:///{Path(tmp) / f'{variant}.sqlite3'}"})
            try:
                port = (await server.read(timeout=60))["port"]
                clients = await Child.start("benchmarks.bench_sockets", "clients", {
                    "n": n, "url": f"ws://127.0.0.1:{port}/epos", "reply": reply})
                try:
                    await clients.read(timeout=600)  # every socket open
                    await server.send({"measure": True})
                    out[variant] = await server.read(timeout=600)
                finally:
                    await clients.stop(timeout=60)
            finally:
                await server.stop(timeout=60)
    return _figures(n, out)


def _figures(n: int, out: dict[str, dict[str, float]]) -> list[Figure]:
    p, b = out["platform"], out["bare"]

    def per_socket(numbers: dict[str, float], phase: str) -> float:
        return (numbers[phase] - numbers["before"]) * 1024 / n

    # The target is for 10,000 sockets; a smaller (--quick) run is not judged against it.
    target = TOTAL_TARGET if n >= TARGET_SOCKETS else None
    return [
        Figure("sockets.gateway.per_socket.idle", per_socket(p, "idle"), "KiB",
               per_socket(b, "idle"),
               notes=f"{n} EPOS sockets at the platform's gateway vs a bare websockets server",
               details=out),
        Figure("sockets.gateway.per_socket.after_one_call", per_socket(p, "after"), "KiB",
               per_socket(b, "after")),
        Figure("sockets.gateway.total_rss", p["after"], "MiB", b["after"], target,
               f"platform process, {n} sockets, after one call each; {p['before']:.0f} MiB "
               "before any socket" + ("" if target else
                                      f" (target judged at {TARGET_SOCKETS:,} sockets only)"),
               details=out),
    ]


# -- child: the platform ---------------------------------------------------------------------------


async def _platform(args: dict[str, Any]) -> None:
    from dojo_epos.keepalive import WS_PROTOCOL
    from dojo_epos.platform import Platform, PlatformSettings, build_platform_app

    n: int = args["n"]
    raise_fd_limit(n + 1024)
    platform = Platform(PlatformSettings(db_url=args["db_url"], ping_interval=None,
                                         ping_timeout=None, call_timeout=120))
    # One socket per account: every client has a key of its own, so no handshake is throttled.
    await platform.start()
    served = await serve_app(build_platform_app(platform=platform), ws=WS_PROTOCOL)
    gc.collect()
    before = rss_mb()
    emit({"port": served.port})
    await command()
    while len(platform.gateway.connections()) < n:
        await asyncio.sleep(0.05)
    gc.collect()
    idle = rss_mb()
    params = {"orderId": args["order_id"], "headers": {}}
    slots = asyncio.Semaphore(64)

    async def call(conn: Any) -> bool:
        async with slots:
            reply = await platform.gateway.call(conn.scope, "GetOrderByIdV1", params)
            return hasattr(reply, "result")

    answered = sum(await asyncio.gather(*(call(c) for c in platform.gateway.connections())))
    if answered != n:
        raise RuntimeError(f"{answered} of {n} sockets answered")
    gc.collect()
    emit({"before": before, "idle": idle, "after": rss_mb()})
    await command()
    await served.stop()
    await platform.close()


# -- child: the bare baseline server ---------------------------------------------------------------


async def _bare(args: dict[str, Any]) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    n: int = args["n"]
    raise_fd_limit(n + 1024)
    sockets: list[ServerConnection] = []
    done = asyncio.Event()

    async def handle(ws: ServerConnection) -> None:
        sockets.append(ws)
        await done.wait()

    gc.collect()
    before = rss_mb()
    async with serve(handle, "127.0.0.1", 0, max_size=None, ping_interval=None,
                     backlog=4096) as server:
        emit({"port": next(iter(server.sockets)).getsockname()[1]})
        await command()
        while len(sockets) < n:
            await asyncio.sleep(0.05)
        gc.collect()
        idle = rss_mb()
        ids = iter(range(n))
        slots = asyncio.Semaphore(64)

        async def call(ws: ServerConnection) -> None:
            async with slots:
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": f"req-{next(ids)}",
                                          "method": "GetOrderByIdV1",
                                          "params": {"orderId": args["order_id"], "headers": {}}}))
                json.loads(await ws.recv())

        await asyncio.gather(*(call(ws) for ws in sockets))
        gc.collect()
        emit({"before": before, "idle": idle, "after": rss_mb()})
        await command()
        done.set()


# -- child: the EPOS sockets ------------------------------------------------------------------------


async def _clients(args: dict[str, Any]) -> None:
    from websockets.asyncio.client import ClientConnection, connect

    n: int = args["n"]
    raise_fd_limit(n + 1024)
    reply: str = args["reply"]

    async def answer(ws: ClientConnection) -> None:
        async for frame in ws:
            request_id = json.dumps(json.loads(frame)["id"])
            await ws.send(reply.replace('"__ID__"', request_id, 1))

    sockets: list[ClientConnection] = []
    slots = asyncio.Semaphore(100)

    async def open_one(i: int) -> None:
        async with slots:
            for attempt in range(5):
                try:
                    sockets.append(await connect(args["url"], ping_interval=None, open_timeout=120,
                                                 max_size=None, compression=None, additional_headers={
                                                     "Authorization": f"Basic {key(i)}",
                                                     "software-house-id": SOFTWARE_HOUSE}))
                    return
                except OSError:  # a full accept backlog under a burst of handshakes
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))

    await asyncio.gather(*(open_one(i) for i in range(n)))
    readers = [asyncio.ensure_future(answer(ws)) for ws in sockets]
    emit({"open": len(sockets)})
    await command()
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


if __name__ == "__main__":
    child_main({"platform": _platform, "bare": _bare, "clients": _clients})
