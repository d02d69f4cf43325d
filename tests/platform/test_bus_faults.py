"""Faults of the bus itself: NATS stops under two workers, then comes back.

The test runs its own ``nats-server`` on a free port (never the machine's one) and stops it with
SIGTERM; the workers are two platforms in this process on one SQLite file, each on its own NATS
connection, with a plain-websockets EPOS connected to worker A.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from dojo_epos.platform import Failure, Platform, PlatformSettings, build_platform_app
from dojo_epos.serving import start_server
from tests.platform.conftest import auth_headers, scope_of
from tests.platform.test_gateway import WsEpos, answer_orders, wait_for
from tests.platform.test_routing import Worker, put_ws
from tests.processes import free_port

pytestmark = pytest.mark.socket


class NatsServer:
    """A nats-server of the test's own, which it may stop and start again on the same port."""

    def __init__(self) -> None:
        binary = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin")
        if binary is None:
            pytest.skip("nats-server is not installed (.ci/run installs Debian's package)")
        self.binary = binary
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "-a", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nats-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    server = NatsServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def workers(tmp_path: Any, nats_server: NatsServer) -> AsyncIterator[tuple[Worker, Worker]]:
    started: list[Worker] = []
    for name in ("A", "B"):
        platform = Platform(PlatformSettings(
            db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}", call_timeout=5.0,
            ping_interval=None, worker_id=f"worker-{name}", bus_url=nats_server.url))
        served = await start_server(build_platform_app(platform=platform), ws_ping_interval=None)
        started.append(Worker(platform, served))
    yield started[0], started[1]
    for worker in started:
        await worker.served.stop()


async def healthz(worker: Worker) -> httpx.Response:
    async with httpx.AsyncClient(base_url=worker.base_url) as client:
        return await client.get("/healthz")


async def until(check: Any, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_nats_stopped_then_back_healthz_fails_fast_and_recovers(
    workers: tuple[Worker, Worker], nats_server: NatsServer,
) -> None:
    a, b = workers
    await put_ws(a, ["GetOrderById"])
    assert (await healthz(a)).status_code == 200
    async with connect(a.ws_url, additional_headers=auth_headers()) as ws:
        epos = WsEpos(ws, answer_orders)
        await wait_for(a.holds)
        before = await b.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
        assert before.ok, before.detail

        nats_server.stop()

        async def b_unhealthy() -> bool:
            return (await healthz(b)).status_code == 503

        await until(b_unhealthy)
        body = (await healthz(b)).json()
        assert body["status"] == "unavailable" and body["bus"] == nats_server.url
        assert nats_server.url in body["message"]
        started = time.perf_counter()
        during = await b.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
        assert time.perf_counter() - started < 0.5  # fails fast, no waiting for the bus
        assert during.failure is Failure.TRANSPORT_ERROR
        assert "message bus" in (during.detail or "") and nats_server.url in (during.detail or "")
        local = await a.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
        assert local.ok, local.detail  # the holder needs no bus for its own socket

        nats_server.start()

        async def both_healthy() -> bool:
            return [(await healthz(w)).status_code for w in (a, b)] == [200, 200]

        await until(both_healthy)

        async def routed_again() -> bool:
            outcome = await b.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
            return outcome.ok

        await until(routed_again)
        epos.task.cancel()
    assert len(epos.received) >= 3


async def test_a_socket_taken_while_nats_is_down_is_reachable_once_it_is_back(
    workers: tuple[Worker, Worker], nats_server: NatsServer,
) -> None:
    a, b = workers
    await put_ws(a, ["GetOrderById"])
    nats_server.stop()

    async def a_unhealthy() -> bool:
        return (await healthz(a)).status_code == 503

    await until(a_unhealthy)
    async with connect(a.ws_url, additional_headers=auth_headers()) as ws:
        epos = WsEpos(ws, answer_orders)
        # A holds the socket but cannot answer for it on a bus that is down: not yet serving
        await wait_for(lambda: a.platform.router.holds(scope_of()))
        assert not a.holds()
        nats_server.start()
        await wait_for(a.holds)  # its subscriptions are made once the bus is back

        async def routed() -> bool:
            outcome = await b.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
            return outcome.ok

        await until(routed)
        epos.task.cancel()
