"""2. WebSocket: GetOrderById sent by the platform's gateway to an EPOS connector, against an echo.

Three processes per measurement: the platform (uvicorn, the gateway at ``/epos``) which also drives
the calls, and the EPOS's :class:`~dojo_epos.epos.connector.Connector` in another; the driver keeps
1 or 32 requests in flight through ``Gateway.call`` and counts round trips per second. The EPOS
handler is either :class:`~benchmarks.handlers.FixedOrderHandler` (in memory: the transport's own
cost) or the reference EPOS on the cached SQLite database.

The baseline is bare ``websockets`` on both ends, in the same two-process shape: a server sends the
same JSON-RPC request frames the gateway sends, a client answers each with a reply frame of the same
bytes the connector sent (the id swapped in), and the server matches replies to requests by id.
The bare client offers no permessage-deflate, as the connector does not by default (see
:mod:`dojo_epos.epos.connector`): both sides of the ratio send the same uncompressed frames.

The echo pair stays up for the whole run and each measurement alternates with it, round after
round (:func:`rounds_for`), as the REST benchmark alternates its servers: this shared machine's
speed drifts over a minute (the echo alone measured 18,346 and 25,876 calls/s at 32 in flight in
two runs nine minutes apart), and an echo measured once, before everything else, put that drift on
one side of every ratio. Each figure's baseline is the echo of the rounds taken beside it.

``ws.invoke`` figures go through ``Platform.invoke`` instead, the path a tester flow or a Dojo
product takes: the registry lookup, params and result validation and the call log in the platform
database. ``ws.plain_peer`` figures make both calls with the echo baseline's own client as the EPOS
(bare websockets, the same reply bytes): the platform's cost with nothing of ours on the other side.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.datasets import history_id, seeded_sqlite, sqlite_url
from benchmarks.handlers import FixedOrderHandler, load_order
from benchmarks.harness import Config, Figure, Report, Target, closed_loop, combine_loops
from benchmarks.procs import Child, child_main, command, emit, serve_app

__all__ = ["run"]

KEY = "sk_sandbox_benchmark0123456789"
SOFTWARE_HOUSE = "bench-house"
INFLIGHT = (1, 32)
TARGET_32 = Target("ratio", ">=", 0.65)
#: Issue 17: Platform.invoke over the WebSocket against the bare echo.
INVOKE_TARGETS = {1: Target("ratio", ">=", 0.5), 32: Target("ratio", ">=", 0.4)}
REST_KEY = "sk_sandbox_benchmarkrest0123456789"
ID_SLOT = '"__ID__"'


async def run(cfg: Config, report: Report) -> list[Figure]:
    path, _cached = await seeded_sqlite(cfg.cache_dir, cfg.rest_orders)
    db_url = sqlite_url(path)
    order_id = history_id(cfg.rest_orders // 2)
    order = await load_order(db_url, order_id)
    rounds = rounds_for(cfg.ws_seconds)
    report.context["ws"] = {"inflight": list(INFLIGHT), "seconds": cfg.ws_seconds,
                            "rounds": rounds, "order_id": order_id, "orders": cfg.rest_orders}
    common = {"seconds": cfg.ws_seconds / rounds, "warmup": min(0.5, cfg.ws_seconds / 2),
              "order_id": order_id}
    reply = json.dumps({"jsonrpc": "2.0", "id": "__ID__", "result": order.to_wire("ws")},
                       separators=(",", ":"))
    results: dict[str, Any] = {}
    echoes: dict[str, dict[str, Any]] = {}
    echo = await _Echo.start(common, reply)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            platform = await Child.start("benchmarks.bench_ws", "platform", {
                **common, "db_url": f"sqlite:///{Path(tmp) / 'platform.sqlite3'}"})
            try:
                url = f"ws://127.0.0.1:{(await platform.read())['port']}/epos"
                for variant in ("memory", "sqlite"):
                    connector = await Child.start("benchmarks.bench_ws", "connector", {
                        "url": url, "variant": variant, "db_url": db_url, "order_id": order_id})
                    try:
                        results[variant], echoes[variant] = await _alternate(
                            platform, echo, {"measure": variant, "invoke": variant == "memory"},
                            rounds)
                    finally:
                        await connector.stop()
                results["plain"], echoes["plain"] = await _plain_peer(platform, echo, url, reply,
                                                                      rounds)
                results["rest"] = await _rest_invoke(platform, Path(tmp), db_url, order_id)
            finally:
                await platform.stop()
    finally:
        await echo.stop()
    return _figures(results, echoes, len(reply))


def rounds_for(seconds: float) -> int:
    """Rounds of at least one second each, at most three."""
    return max(1, min(3, int(seconds)))


async def _alternate(platform: Child, echo: _Echo, measure: dict[str, Any],
                     rounds: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """``measure`` on the platform and the echo in turn, ``rounds`` times; both combined."""
    found: list[dict[str, Any]] = []
    echoed: list[dict[str, Any]] = []
    for n in range(rounds):
        echoed.append(await echo.measure(first=n == 0))
        await platform.send({**measure, "fresh": n == 0})
        found.append(await platform.read(timeout=120))
    combined = {path: {key: combine_loops([r[path][key] for r in found]) for key in found[0][path]}
                for path in found[0]}
    return combined, {key: combine_loops([r[key] for r in echoed]) for key in echoed[0]}


async def _plain_peer(platform: Child, echo: _Echo, url: str, reply: str,
                      rounds: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The gateway and ``Platform.invoke`` answered by the echo baseline's own client (bare
    websockets, the same reply bytes): what the platform costs with no Python connector on the
    machine's other core (a stranger's EPOS in any language)."""
    peer = await Child.start("benchmarks.bench_ws", "echo_client", {
        "url": url, "reply": reply,
        "headers": {"Authorization": f"Basic {KEY}", "software-house-id": SOFTWARE_HOUSE}})
    try:
        return await _alternate(platform, echo, {"measure": "plain", "invoke": True}, rounds)
    finally:
        await peer.stop()


async def _rest_invoke(platform: Child, tmp: Path, db_url: str, order_id: str) -> dict[str, Any]:
    """``Platform.invoke`` over REST (the EPOS's REST app, in-memory handler, in a process of its
    own) against bare HTTP/1.1 round trips from the same platform process to a raw ASGI app that
    answers with the very bytes the EPOS returned."""
    import httpx

    from benchmarks.bench_rest import _auth

    epos = await Child.start("benchmarks.bench_rest", "epos",
                             {"db_url": db_url, "memory_order_id": order_id})
    try:
        epos_port = (await epos.read())["port"]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{epos_port}") as client:
            answer = await client.get(f"/v1/orders/{order_id}", headers=_auth())
        answer.raise_for_status()
        body = tmp / "order.json"
        body.write_bytes(answer.content)
        bare = await Child.start("benchmarks.bench_rest", "bare", {
            "bodies": {"get_order_by_id": str(body), "search_orders": str(body)}})
        try:
            bare_port = (await bare.read())["port"]
            await platform.send({"measure_rest": True, "epos_port": epos_port,
                                 "bare_port": bare_port})
            found: dict[str, Any] = await platform.read(timeout=120)
            found["reply_bytes"] = len(answer.content)
            return found
        finally:
            await bare.stop()
    finally:
        await epos.stop()


def _figures(results: dict[str, Any], echoes: dict[str, dict[str, Any]],
             reply_bytes: int) -> list[Figure]:
    figures = []
    for variant, label in (("memory", "in_memory"), ("sqlite", "sqlite")):
        for n in INFLIGHT:
            got, base = results[variant]["gateway"][str(n)], echoes[variant][str(n)]
            figures.append(Figure(
                f"ws.get_order_by_id.{label}.inflight_{n}", got["rate"], "calls/s", base["rate"],
                TARGET_32 if (variant, n) == ("memory", 32) else None,
                f"p50 {got['p50_ms']:.2f} ms vs echo {base['p50_ms']:.2f} ms; "
                f"{reply_bytes} B replies", {"gateway": got, "echo": base}))
    for n in INFLIGHT:
        got, base = results["memory"]["invoke"][str(n)], echoes["memory"][str(n)]
        figures.append(Figure(
            f"ws.invoke.in_memory.inflight_{n}", got["rate"], "calls/s", base["rate"],
            INVOKE_TARGETS[n],
            "Platform.invoke: registry, validation and call log included" + _log_note(got),
            details={"invoke": got, "echo": base}))
    plain = results["plain"]
    for n in INFLIGHT:
        for path in ("gateway", "invoke"):
            got, base = plain[path][str(n)], echoes["plain"][str(n)]
            figures.append(Figure(
                f"ws.plain_peer.{path}.inflight_{n}", got["rate"], "calls/s", base["rate"],
                notes=f"{'Gateway.call' if path == 'gateway' else 'Platform.invoke'} answered by "
                      "the echo's bare websockets client: the platform's cost alone (reported; "
                      "the targets are judged with the connector)" + _log_note(got),
                details={path: got, "echo": base}))
    rest = results["rest"]
    for n in INFLIGHT:
        got, base = rest["invoke"][str(n)], rest["bare"][str(n)]
        figures.append(Figure(
            f"ws.invoke_over_rest.in_memory.inflight_{n}", got["rate"], "calls/s", base["rate"],
            notes="Platform.invoke over REST (httpx, basic auth, validation, call log) vs bare "
                  f"HTTP/1.1 round trips to a raw ASGI app; {rest['reply_bytes']} B replies"
                  + _log_note(got),
            details={"invoke": got, "bare_http": base}))
    return figures


class _Echo:
    """The bare websockets pair, up for the whole run: its server measures on each command."""

    def __init__(self, server: Child, client: Child) -> None:
        self.server, self.client = server, client

    @classmethod
    async def start(cls, common: dict[str, Any], reply: str) -> _Echo:
        server = await Child.start("benchmarks.bench_ws", "echo_server", common)
        try:
            port = (await server.read())["port"]
            client = await Child.start("benchmarks.bench_ws", "echo_client",
                                       {"url": f"ws://127.0.0.1:{port}", "reply": reply})
        except BaseException:
            await server.stop()
            raise
        return cls(server, client)

    async def measure(self, *, first: bool) -> dict[str, Any]:
        """One round: each number in flight for the round's seconds (warmed up if ``first``)."""
        await self.server.send({"measure": True, "first": first})
        return await self.server.read(timeout=120)

    async def stop(self) -> None:
        await self.client.stop()
        await self.server.stop()


def _request(order_id: str) -> dict[str, Any]:
    return {"orderId": order_id, "headers": {}}


# -- child: the platform, driving the gateway ------------------------------------------------------


async def _platform(args: dict[str, Any]) -> None:
    from dojo_epos.keepalive import WS_PROTOCOL
    from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
    from dojo_epos.platform.accounts import Environment, Scope, fingerprint

    platform = Platform(PlatformSettings(db_url=args["db_url"], ping_interval=None,
                                         ping_timeout=None, call_timeout=30))
    await platform.start()
    scope = Scope(Environment.SANDBOX, fingerprint(KEY), SOFTWARE_HOUSE)
    await platform.store.replace_registration(scope, "ws", [("GetOrderById", "v1")])
    served = await serve_app(build_platform_app(platform=platform), ws=WS_PROTOCOL)
    emit({"port": served.port})
    previous = None
    params = _request(args["order_id"])
    while cmd := await command():
        if cmd.get("measure_rest"):
            emit(await _measure_rest(platform, cmd, args))
            continue
        if cmd.get("fresh"):  # a new EPOS: wait for its socket (not the last one's)
            while (conn := platform.gateway.connection(scope)) is None or conn is previous:
                await asyncio.sleep(0.02)
            previous = conn
        warmup = args["warmup"] if cmd.get("fresh") else 0.0

        async def gateway_call() -> None:
            reply = await platform.gateway.call(scope, "GetOrderByIdV1", params)
            if not hasattr(reply, "result"):
                raise RuntimeError(f"error reply: {reply}")

        async def invoke() -> None:
            result = await platform.invoke(scope, "GetOrderById", params)
            if not result.ok:
                raise RuntimeError(f"invoke failed: {result.failure} {result.detail}")

        out: dict[str, Any] = {"gateway": {}, "invoke": {}}
        for n in INFLIGHT:
            out["gateway"][str(n)] = await closed_loop(
                gateway_call, concurrency=n, seconds=args["seconds"], warmup=warmup)
        if cmd.get("invoke"):
            for n in INFLIGHT:
                out["invoke"][str(n)] = await logged_loop(
                    platform, invoke, concurrency=n, seconds=args["seconds"], warmup=warmup)
        else:
            del out["invoke"]
        emit(out)
    await served.stop()
    await platform.close()


async def logged_loop(platform: Any, call: Any, **loop: Any) -> dict[str, Any]:
    """:func:`closed_loop` over ``Platform.invoke``, with what the call log did meanwhile: entries
    it did not persist (its writer behind: the figure then measured less than the path) and how
    long it took to write the rest once the calls stopped."""
    dropped = platform.invoker.log_dropped
    got = await closed_loop(call, **loop)
    began = time.perf_counter()
    await platform.invoker.flush_log()
    return {**got, "log_dropped": platform.invoker.log_dropped - dropped,
            "log_catch_up_ms": round((time.perf_counter() - began) * 1000, 1)}


def _log_note(got: dict[str, Any]) -> str:
    dropped = got.get("log_dropped", 0)
    return f"; {dropped} call-log entries NOT persisted (writer behind)" if dropped else ""


async def _measure_rest(platform: Any, cmd: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.bench_rest import PASSWORD, USER, _auth
    from dojo_epos.platform.accounts import Environment, Scope, fingerprint

    scope = Scope(Environment.SANDBOX, fingerprint(REST_KEY), SOFTWARE_HOUSE)
    await platform.store.replace_registration(
        scope, "rest", [("GetOrderById", "v1")], url=f"http://127.0.0.1:{cmd['epos_port']}",
        username=USER, password=PASSWORD)
    params = _request(args["order_id"])

    async def invoke() -> None:
        result = await platform.invoke(scope, "GetOrderById", params)
        if not result.ok:
            raise RuntimeError(f"invoke over REST failed: {result.failure} {result.detail}")

    head = "".join(f"{k}: {v}\r\n" for k, v in _auth().items())
    request = (f"GET /v1/orders/{args['order_id']} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n"
               ).encode()
    out: dict[str, Any] = {"invoke": {}, "bare": {}}
    for n in INFLIGHT:
        out["invoke"][str(n)] = await logged_loop(platform, invoke, concurrency=n,
                                                  seconds=args["seconds"],
                                                  warmup=args["warmup"])
        pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        for _ in range(n):
            pool.put_nowait(await asyncio.open_connection("127.0.0.1", cmd["bare_port"]))

        async def bare(pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
                       = pool) -> None:
            reader, writer = await pool.get()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            pool.put_nowait((reader, writer))

        out["bare"][str(n)] = await closed_loop(bare, concurrency=n, seconds=args["seconds"],
                                                warmup=args["warmup"])
        while not pool.empty():
            pool.get_nowait()[1].close()
    return out


async def _connector(args: dict[str, Any]) -> None:
    from dojo_epos.epos.connector import Connector
    from dojo_epos.epos.handler import EposHandler
    from dojo_epos.epos.reference import open_reference

    handler: EposHandler
    if args["variant"] == "memory":
        handler = FixedOrderHandler(await load_order(args["db_url"], args["order_id"]))
    else:
        handler = await open_reference(args["db_url"])
    connector = Connector(handler, args["url"], KEY, SOFTWARE_HOUSE, ping_interval=None,
                          backoff_initial=0.05)
    task = asyncio.ensure_future(connector.run())
    await command()
    await connector.stop()
    await task


# -- children: the bare websockets baseline --------------------------------------------------------


async def _echo_server(args: dict[str, Any]) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    connected: asyncio.Future[ServerConnection] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def handle(ws: ServerConnection) -> None:
        if not connected.done():
            connected.set_result(ws)
        await done.wait()

    async with serve(handle, "127.0.0.1", 0, max_size=None, ping_interval=None) as server:
        emit({"port": next(iter(server.sockets)).getsockname()[1]})
        ws = await connected
        ids = itertools.count()
        pending: dict[str, asyncio.Future[None]] = {}

        async def reader() -> None:
            async for frame in ws:
                future = pending.pop(json.loads(frame)["id"], None)
                if future is not None:
                    future.set_result(None)

        reading = asyncio.ensure_future(reader())
        params = _request(args["order_id"])

        async def call() -> None:
            request_id = f"req-{next(ids)}"
            future = asyncio.get_running_loop().create_future()
            pending[request_id] = future
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": request_id,
                                      "method": "GetOrderByIdV1", "params": params}))
            await future

        while cmd := await command():
            warmup = args["warmup"] if cmd.get("first") else 0.0
            emit({str(n): await closed_loop(call, concurrency=n, seconds=args["seconds"],
                                            warmup=warmup) for n in INFLIGHT})
        reading.cancel()
        done.set()


async def _echo_client(args: dict[str, Any]) -> None:
    from websockets.asyncio.client import connect

    template: str = args["reply"]
    async with connect(args["url"], max_size=None, ping_interval=None, compression=None,
                       additional_headers=args.get("headers")) as ws:
        answering = asyncio.ensure_future(_answer(ws, template))
        await command()
        answering.cancel()


async def _answer(ws: Any, template: str) -> None:
    async for frame in ws:
        await ws.send(template.replace(ID_SLOT, json.dumps(json.loads(frame)["id"]), 1))


if __name__ == "__main__":
    child_main({"platform": _platform, "connector": _connector, "echo_server": _echo_server,
                "echo_client": _echo_client})
