"""``dojo-epos demo``: the whole system on one machine, in one process.

What it does, in order:

1. seeds the reference EPOS (SQLite in the data folder; a re-run adds nothing) and opens a few fresh
   orders at the till, so every run has something to pay;
2. starts the local platform (with its dashboard) and serves the reference EPOS over REST;
3. connects the same EPOS to the platform's gateway over the WebSocket (the connector);
4. registers the EPOS under two demo accounts: one over REST, one over WebSocket;
5. runs the Pay at Table, Order and Pay and Certification flows on both, with live progress;
6. prints a summary table and, unless ``--once``, keeps serving and prints the dashboard URL.

The EPOS's REST password is generated for the run and never printed; the demo API key is a local,
made-up sandbox key.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from dojo_epos.client import AsyncClient
from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.epos.connector import Connector, ConnectorState
from dojo_epos.epos.reference import open_reference, till
from dojo_epos.epos.reference.menu import line
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.http.hosts import HostGuard, allowed_hosts_for
from dojo_epos.serving import Served, port_is_free, start_server

__all__ = ["DEMO_KEY", "DemoOptions", "run_demo"]

#: A made-up sandbox key for the local platform (any well-formed key is accepted there).
DEMO_KEY = "sk_sandbox_dojo_epos_demo_key"
REST_HOUSE, WS_HOUSE = "demo-rest", "demo-ws"
FLOWS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("Pay at Table", {"splits": "2", "tip": "150"}),
    ("Order and Pay", {}),
    ("Certification", {}),
)
# Fresh orders opened at the till before the flows (table, waiter, lines).
FRESH_ORDERS = (
    ("T3", "w_alice", [line("STR-CALA"), line("MN-PIZZ", 2, ["MOD-CHEESE"])]),
    ("T8", "w_chloe", [line("MN-BURG", 2, ["MOD-BACON"]), line("SD-FRIES", 2)]),
    ("T11", "w_dev", [line("MN-RISO"), line("MN-STEAK", 1, ["MOD-PEPPER"])]),
)


@dataclass
class DemoOptions:
    data_dir: Path = field(default_factory=lambda: Path("data"))
    host: str = "127.0.0.1"
    platform_port: int = 8000
    epos_port: int = 8080
    once: bool = False
    call_timeout: float = 10.0


@dataclass
class _Row:
    account: str
    transport: str
    flow: str
    result: FlowResult | None = None


def _pick_port(host: str, wanted: int) -> int:
    return wanted if wanted and port_is_free(host, wanted) else 0


def _say_if_moved(console: Console, what: str, wanted: int, served: Served) -> None:
    if wanted and served.port != wanted:
        console.print(f"  port {wanted} is busy: the {what} took port {served.port} instead")


def _table(rows: list[_Row]) -> Table:
    table = Table(title="dojo-epos demo: tester flows", expand=False)
    for heading in ("transport", "flow", "status", "steps", "current step"):
        table.add_column(heading)
    colours = {Status.SUCCESS: "green", Status.FAILURE: "red", Status.TIMED_OUT: "yellow",
               Status.IN_PROGRESS: "cyan"}
    for row in rows:
        if row.result is None:
            table.add_row(row.transport, row.flow, "waiting", "", "")
            continue
        status = row.result.status
        done = sum(1 for s in row.result.steps if s.status is Status.SUCCESS)
        current = row.result.steps[-1].name if row.result.steps else ""
        if status is not Status.IN_PROGRESS and status is not Status.SUCCESS:
            failed = next((s for s in row.result.steps if s.status is not Status.SUCCESS), None)
            current = f"{failed.name}: {' | '.join(failed.additional_information)[:120]}" \
                if failed else ""
        table.add_row(row.transport, row.flow, f"[{colours[status]}]{status.value}[/]",
                      f"{done}/{len(row.result.steps)}", current[:140])
    return table


async def _run_flows(clients: dict[str, AsyncClient], console: Console) -> list[_Row]:
    rows = [_Row(house, transport, flow) for transport, house in
            (("REST", REST_HOUSE), ("WebSocket", WS_HOUSE)) for flow, _ in FLOWS]
    params = dict(FLOWS)
    with Live(_table(rows), console=console, refresh_per_second=8) as live:
        for row in rows:
            client = clients[row.account]
            flow_id = await client.run_flow(row.flow, params[row.flow])
            while True:
                row.result = await client.get_flow_result(flow_id)
                live.update(_table(rows))
                if row.result.status is not Status.IN_PROGRESS:
                    break
                await asyncio.sleep(0.1)
    return rows


async def run_demo(options: DemoOptions, console: Console | None = None,
                   on_ready: Callable[[dict[str, str]], None] | None = None) -> int:
    """Run the demo; returns the exit code (0 when every flow succeeded)."""
    console = console or Console()
    data = options.data_dir
    data.mkdir(parents=True, exist_ok=True)
    epos_db = f"sqlite:///{data / 'epos.sqlite3'}"
    platform_db = f"sqlite:///{data / 'platform.sqlite3'}"
    password = secrets.token_urlsafe(18)
    stack = contextlib.AsyncExitStack()
    async with stack:
        console.print(f"[bold]dojo-epos demo[/bold]: data in {data.resolve()}")
        epos = await open_reference(epos_db)
        stack.push_async_callback(epos.aclose)
        report = await seed_database(epos.db)
        console.print(f"  reference EPOS seeded (new: {report.tables} tables, "
                      f"{report.open_orders} open orders)")
        for table_id, waiter, items in FRESH_ORDERS:
            await till.open_order(epos.db, table_id, waiter, items)
        console.print(f"  opened {len(FRESH_ORDERS)} fresh orders at the till")

        platform = Platform(PlatformSettings(db_url=platform_db,
                                             call_timeout=options.call_timeout))
        stack.push_async_callback(platform.close)
        await platform.start()
        platform_server: Served = await start_server(
            HostGuard(build_platform_app(platform=platform), allowed_hosts_for(options.host)),
            options.host,
            _pick_port(options.host, options.platform_port), lifespan="off")
        stack.push_async_callback(platform_server.stop)
        epos_server = await start_server(
            build_rest_app(epos, username="dojo", password=password), options.host,
            _pick_port(options.host, options.epos_port))
        stack.push_async_callback(epos_server.stop)
        _say_if_moved(console, "platform", options.platform_port, platform_server)
        _say_if_moved(console, "EPOS", options.epos_port, epos_server)
        console.print(f"  platform on {platform_server.url}, EPOS REST on {epos_server.url}")

        ws_url = f"ws://{options.host}:{platform_server.port}/epos"
        # Certification's Replaced socket flow closes this socket with 4000 at its end; the demo's
        # connector backs off a few seconds instead of stopping, so the demo stays connected.
        connector = Connector(epos, ws_url, DEMO_KEY, WS_HOUSE, backoff_initial=0.2,
                              on_replaced="backoff", replaced_backoff=5.0)
        connector_task = asyncio.create_task(connector.run(), name="demo connector")

        async def stop_connector() -> None:
            await connector.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await connector_task

        stack.push_async_callback(stop_connector)

        clients = {
            house: AsyncClient(DEMO_KEY, house, base_url=platform_server.url)
            for house in (REST_HOUSE, WS_HOUSE)
        }
        for client in clients.values():
            stack.push_async_callback(client.aclose)
        capabilities = [(c.name, "v1") for c in epos.offered_capabilities()]
        await clients[REST_HOUSE].put_rest_integration(
            epos_server.url, capabilities, username="dojo", password=password)
        await clients[WS_HOUSE].put_ws_integration(capabilities)
        for _ in range(500):
            if connector.state is ConnectorState.CONNECTED:
                break
            await asyncio.sleep(0.02)
        else:
            console.print(f"[red]the connector did not connect: {connector.last_error}[/red]")
            return 1
        console.print(f"  registered {len(capabilities)} capabilities over REST and over "
                      "WebSocket; connector connected")

        rows = await _run_flows(clients, console)
        ok = all(r.result is not None and r.result.status is Status.SUCCESS for r in rows)
        passed = sum(1 for r in rows if r.result and r.result.status is Status.SUCCESS)
        console.print()
        console.print(f"[{'green' if ok else 'red'}]{passed}/{len(rows)} flows succeeded[/]")
        urls = {"dashboard": f"{platform_server.url}/dashboard", "platform": platform_server.url,
                "epos": epos_server.url}
        if on_ready is not None:
            on_ready(urls)
        if options.once:
            return 0 if ok else 1
        console.print(f"\nDashboard: [bold]{urls['dashboard']}[/bold]  (Ctrl-C to stop)")
        console.print(f"Platform API: {platform_server.url}  (key {DEMO_KEY}, software-house-id "
                      f"{REST_HOUSE} or {WS_HOUSE})")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            console.print("stopping…")
        return 0 if ok else 1
    return 1  # pragma: no cover - the stack always returns inside
