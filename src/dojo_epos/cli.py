"""The ``dojo-epos`` command: run the demo, the local platform, the reference EPOS, register, test.

Every option also comes from the environment (``DOJO_API_KEY``, ``DOJO_SOFTWARE_HOUSE_ID``,
``DOJO_RESELLER_ID``, ``DOJO_API_URL``, ``DOJO_WS_URL``, ``EPOS_DB``, ``PLATFORM_DB``). Secrets are
never printed: keys and passwords appear masked, if at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from dojo_epos import __version__
from dojo_epos.settings import DEFAULT_API_URL, DEFAULT_WS_URL, default_epos_db, default_platform_db

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Dojo's EPOS Data API, both sides: serve, connect, register, test.")
platform_app = typer.Typer(no_args_is_help=True, help="The local stand-in for Dojo's platform.")
epos_app = typer.Typer(no_args_is_help=True, help="The reference EPOS (a demo restaurant).")
till_app = typer.Typer(no_args_is_help=True, help="Till actions a member of staff would take.")
register_app = typer.Typer(no_args_is_help=True, help="Register capabilities with Dojo or locally.")
flows_app = typer.Typer(no_args_is_help=True, help="The EPOS tester tool's flows.")
app.add_typer(platform_app, name="platform")
app.add_typer(epos_app, name="epos")
epos_app.add_typer(till_app, name="till")
app.add_typer(register_app, name="register")
app.add_typer(flows_app, name="flows")

console = Console(stderr=True)
out = Console()

# Shared option types ------------------------------------------------------------------------------
ApiUrl = Annotated[str, typer.Option("--api-url", envvar="DOJO_API_URL",
                                     help="Dojo API base URL (real Dojo or the local platform).")]
ApiKey = Annotated[str, typer.Option("--api-key", envvar="DOJO_API_KEY", show_default=False,
                                     help="API key (sk_sandbox_... or sk_prod_...).")]
SoftwareHouse = Annotated[str, typer.Option("--software-house-id", envvar="DOJO_SOFTWARE_HOUSE_ID",
                                            help="Your software house id, issued by Dojo.")]
Reseller = Annotated[str | None, typer.Option("--reseller-id", envvar="DOJO_RESELLER_ID",
                                              help="Reseller id, if any.")]
EposDb = Annotated[str | None, typer.Option("--db", envvar="EPOS_DB",
                                            help="Database URL (default: SQLite in ./data).")]
Host = Annotated[str, typer.Option("--host", help="Interface to bind.")]


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        console.print("stopped")
        raise typer.Exit(130) from None


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@app.callback(invoke_without_command=True)
def _main(version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit()


# -- demo ---------------------------------------------------------------------------------------


@app.command()
def demo(
    once: Annotated[bool, typer.Option("--once", help="Exit after the flows: 0 if all succeeded.")] = False,
    data: Annotated[str, typer.Option("--data", envvar="DOJO_EPOS_DATA",
                                      help="Folder for the demo's databases.")] = "data",
    host: Host = "127.0.0.1",
    platform_port: Annotated[int, typer.Option(help="Platform port (a free one if taken).")] = 8000,
    epos_port: Annotated[int, typer.Option(help="EPOS REST port (a free one if taken).")] = 8080,
) -> None:
    """Everything local: platform + reference EPOS over REST and WS, registration, flows."""
    from dojo_epos.demo import DemoOptions, run_demo

    code = _run(run_demo(DemoOptions(data_dir=Path(data), host=host, platform_port=platform_port,
                                     epos_port=epos_port, once=once), console=out))
    raise typer.Exit(code)


# -- platform -----------------------------------------------------------------------------------


@platform_app.command("serve")
def platform_serve(
    host: Host = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Annotated[str | None, typer.Option("--db", envvar="PLATFORM_DB",
                                           help="Database URL (default: SQLite in ./data).")] = None,
    api_key: Annotated[list[str] | None, typer.Option(
        "--api-key", help="Accept only these keys (repeatable); default: any well-formed key.")] = None,
    call_timeout: Annotated[float, typer.Option(help="Seconds to wait for an EPOS's answer.")] = 10.0,
    bus: Annotated[str, typer.Option(
        "--bus", envvar="PLATFORM_BUS",
        help="Bus between workers: 'memory' (one process) or nats://host:port.")] = "memory",
    bus_namespace: Annotated[str, typer.Option(
        "--bus-namespace", envvar="PLATFORM_BUS_NAMESPACE",
        help="Prefix of the NATS subjects: platforms sharing one NATS server keep apart by it."
    )] = "dojo-epos",
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Worker processes on one port (needs --bus nats://... and "
        "a PostgreSQL --db).")] = 1,
) -> None:
    """Run the local stand-in for Dojo's platform (registry, gateway, events, tester, dashboard).

    Several workers, here (--workers) or on other machines (each its own `platform serve`), share
    the database and the NATS bus: any of them takes any socket, request or flow.
    """
    from dojo_epos.platform.app import serve_platform
    from dojo_epos.platform.bus import make_bus

    url = db or default_platform_db()
    try:
        distributed = make_bus(bus).distributed
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if workers > 1 and not distributed:
        raise _fail("--workers above 1 needs a bus between them: --bus nats://127.0.0.1:4222")
    if workers > 1 and not url.startswith(("postgresql", "postgres")):
        raise _fail("--workers above 1 needs a database they share: --db postgresql://...")
    _ensure_sqlite_dir(url)
    if workers == 1:
        console.print(f"platform on http://{host}:{port} (dashboard at /dashboard), bus {bus}")
        _run(serve_platform(host, port, url, api_key or (), call_timeout=call_timeout, bus_url=bus,
                            bus_namespace=bus_namespace))
        return
    from dojo_epos.platform.workers import listening_socket, serve_workers

    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        raise _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = sock.getsockname()[1]
    console.print(f"platform on http://{host}:{bound} (dashboard at /dashboard), "
                  f"{workers} workers, bus {bus}")

    async def worker(index: int, sockets: Any) -> None:
        await serve_platform(host, bound, url, api_key or (), call_timeout=call_timeout,
                             bus_url=bus, bus_namespace=bus_namespace, sockets=sockets)

    raise typer.Exit(serve_workers(workers, sock, worker))


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


# -- epos ---------------------------------------------------------------------------------------


@epos_app.command("seed")
def epos_seed(
    db: EposDb = None,
    orders: Annotated[int | None, typer.Option(help="Also bulk-load this many past orders.")] = None,
) -> None:
    """Build a demo restaurant: areas, tables, waiters, open orders. Re-running adds nothing."""
    from dojo_epos.epos.reference.seed import seed

    url = db or default_epos_db()
    _ensure_sqlite_dir(url)
    report = _run(seed(url, orders=orders))
    out.print(f"seeded: {report.tables} tables, {report.open_orders} open orders, "
              f"{report.history_orders} past orders added")


@epos_app.command("serve")
def epos_serve(
    username: Annotated[str, typer.Option(envvar="EPOS_USERNAME", help="Basic-auth user Dojo sends.")],
    password: Annotated[str, typer.Option(envvar="EPOS_PASSWORD", help="Basic-auth password.",
                                          show_default=False)],
    host: Host = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    db: EposDb = None,
) -> None:
    """Serve the reference EPOS over REST (the /v1 routes Dojo calls)."""
    from dojo_epos.epos.reference import open_reference
    from dojo_epos.epos.rest import serve

    url = db or default_epos_db()
    _ensure_sqlite_dir(url)

    async def main() -> None:
        epos = await open_reference(url)
        try:
            console.print(f"reference EPOS over REST on http://{host}:{port}/v1 "
                          f"({len(epos.offered_capabilities())} capabilities)")
            await serve(epos, username=username, password=password, host=host, port=port)
        finally:
            await epos.aclose()

    _run(main())


@epos_app.command("connect")
def epos_connect(
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    url: Annotated[str, typer.Option("--url", envvar="DOJO_WS_URL",
                                     help="The platform's WebSocket URL.")] = DEFAULT_WS_URL,
    reseller_id: Reseller = None,
    db: EposDb = None,
) -> None:
    """Connect the reference EPOS to Dojo (or the local platform) over the WebSocket."""
    from dojo_epos.epos.connector import Connector, ConnectorState
    from dojo_epos.epos.reference import open_reference

    db_url = db or default_epos_db()
    _ensure_sqlite_dir(db_url)

    def on_state(state: ConnectorState, detail: str | None) -> None:
        console.print(f"connector {state.value}{': ' + detail if detail else ''}")

    async def main() -> None:
        epos = await open_reference(db_url)
        connector = Connector(epos, url, api_key, software_house_id, reseller_id,
                              on_state_change=on_state)
        console.print(f"connecting to {url} with key {connector.key_hint}")
        try:
            await connector.run()
        finally:
            await connector.stop()
            await epos.aclose()

    _run(main())


# -- till ---------------------------------------------------------------------------------------


def _print_order(order: Any) -> None:
    total = order.total_amount.value if order.total_amount else 0
    paid = order.paid_amount.value if order.paid_amount else 0
    table = order.details.dine_in.table_id if order.details.dine_in else "-"
    out.print(f"{order.id}  table {table}  {order.status.value}  total {total}  paid {paid}  "
              f"payable {order.payable}")
    for n, item in enumerate(order.items):
        out.print(f"   [{n}] {item.quantity} x {item.name} ({item.plu}) @ {item.amount_per_item.value}")


def _till(work: Any, db: str | None) -> None:
    from dojo_epos.contract.errors import EposError
    from dojo_epos.epos.reference import till

    url = db or default_epos_db()

    async def main() -> Any:
        database = await till.connect(url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    try:
        result = _run(main())
    except EposError as exc:
        raise _fail(f"{exc.error_type.value}: {exc.debug_message}", 1) from None
    for order in result if isinstance(result, list) else [result]:
        _print_order(order)


def _lines(items: list[str]) -> list[Any]:
    """``PLU``, ``PLU*2`` or ``PLU*2+MOD-A+MOD-B`` into order lines."""
    from dojo_epos.epos.reference.menu import line

    lines = []
    for spec in items:
        head, *mods = spec.split("+")
        plu, _, qty = head.partition("*")
        try:
            lines.append(line(plu, int(qty or 1), mods))
        except (KeyError, ValueError):
            raise _fail(f"not a menu line: {spec!r} (PLU, PLU*QTY, PLU*QTY+MODIFIER)") from None
    return lines


@till_app.command("list")
def till_list(db: EposDb = None, table: Annotated[str | None, typer.Option()] = None) -> None:
    """Open orders (optionally on one table)."""
    from dojo_epos.epos.reference import till

    _till(lambda d: till.list_orders(d, table_id=table), db)


@till_app.command("open")
def till_open(
    table: Annotated[str, typer.Argument(help="Table id, e.g. T3.")],
    items: Annotated[list[str] | None, typer.Argument(help="Menu lines: PLU, PLU*2, PLU*2+MOD")] = None,
    waiter: Annotated[str | None, typer.Option()] = None,
    db: EposDb = None,
) -> None:
    """Open an order on a table."""
    from dojo_epos.epos.reference import till

    lines = _lines(items or [])
    _till(lambda d: till.open_order(d, table, waiter, lines), db)


@till_app.command("add")
def till_add(order_id: str, items: list[str], db: EposDb = None) -> None:
    """Add lines to an order (refused while Dojo holds its lock)."""
    from dojo_epos.epos.reference import till

    lines = _lines(items)
    _till(lambda d: till.add_items(d, order_id, lines), db)


@till_app.command("void")
def till_void(order_id: str, index: int, db: EposDb = None) -> None:
    """Void the line at INDEX (as listed) from an order."""
    from dojo_epos.epos.reference import till

    _till(lambda d: till.void_item(d, order_id, index), db)


@till_app.command("close")
def till_close(order_id: str, db: EposDb = None,
               cash: Annotated[bool, typer.Option("--cash", help="Settle what is due in cash.")] = False,
               ) -> None:
    """Close an order."""
    from dojo_epos.epos.reference import till

    _till(lambda d: till.close_order(d, order_id, settle_cash=cash), db)


# -- register -----------------------------------------------------------------------------------


def _capabilities(names: list[str] | None) -> list[tuple[str, str]]:
    if names:
        return [(n, "v1") for n in names]
    from dojo_epos.epos.handler import EposHandler
    from dojo_epos.epos.reference.handler import ReferenceEpos

    offered: list[Any] = EposHandler.offered_capabilities(ReferenceEpos.__new__(ReferenceEpos))
    return [(c.name, "v1") for c in offered]


def _client(api_url: str, api_key: str, software_house_id: str, reseller_id: str | None) -> Any:
    from dojo_epos.client import Client

    return Client(api_key, software_house_id, reseller_id, base_url=api_url)


def _api_call(call: Any) -> Any:
    from dojo_epos.client import PlatformApiError

    try:
        return call()
    except PlatformApiError as exc:
        raise _fail(str(exc), 1) from None
    except Exception as exc:  # network and the like: say what, not a traceback
        raise _fail(f"{type(exc).__name__}: {exc}", 1) from None


Capabilities = Annotated[list[str] | None, typer.Option(
    "--capability", help="Capability to register (repeatable); default: all the reference EPOS offers.")]


@register_app.command("rest")
def register_rest(
    url: Annotated[str, typer.Option("--url", help="Your EPOS's base URL (Dojo appends /v1/...).")],
    username: Annotated[str, typer.Option(help="Basic-auth user Dojo will send.")],
    password: Annotated[str, typer.Option(envvar="EPOS_PASSWORD", show_default=False,
                                          help="Basic-auth password Dojo will send.")],
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
    capability: Capabilities = None,
) -> None:
    """Register (replace) your REST capabilities."""
    caps = _capabilities(capability)
    with _client(api_url, api_key, software_house_id, reseller_id) as client:
        result = _api_call(lambda: client.put_rest_integration(url, caps, username=username,
                                                               password=password))
    out.print_json(data=[r.to_wire() for r in result])


@register_app.command("ws")
def register_ws(
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
    capability: Capabilities = None,
) -> None:
    """Register (replace) your WebSocket capabilities."""
    caps = _capabilities(capability)
    with _client(api_url, api_key, software_house_id, reseller_id) as client:
        result = _api_call(lambda: client.put_ws_integration(caps))
    out.print_json(data=[r.to_wire() for r in result])


@register_app.command("show")
def register_show(api_key: ApiKey, software_house_id: SoftwareHouse,
                  api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """Show every registered capability (go-live checklist: get all registered capabilities)."""
    with _client(api_url, api_key, software_house_id, reseller_id) as client:
        result = _api_call(client.get_integrations)
    out.print_json(data=result.to_wire())


# -- flows --------------------------------------------------------------------------------------


@flows_app.command("list")
def flows_list(api_key: ApiKey, software_house_id: SoftwareHouse,
               api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """The flows the tester offers, with their parameters."""
    from rich.table import Table

    with _client(api_url, api_key, software_house_id, reseller_id) as client:
        flows = _api_call(client.list_flows)
    table = Table("flow", "parameters")
    for flow in flows:
        params = ", ".join(f"{p.name}{'' if p.required else '?'}:{p.type}"
                           + (f"={p.default}" if p.default else "") for p in flow.params)
        table.add_row(flow.name, params)
    out.print(table)


def _parse_params(pairs: list[str] | None) -> dict[str, str]:
    params = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _fail(f"--param takes KEY=VALUE, not {pair!r}")
        params[key] = value
    return params


@flows_app.command("run")
def flows_run(
    name: Annotated[str, typer.Argument(help="Flow name, e.g. 'Pay at Table'.")],
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    param: Annotated[list[str] | None, typer.Option("--param", help="KEY=VALUE (repeatable).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the flow to its end.")] = False,
    junit: Annotated[Path | None, typer.Option(
        "--junit", help="Write a JUnit XML report (implies --wait).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the flow to end.")] = 600.0,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
) -> None:
    """Run a flow; with --wait, show its steps live and exit 0 only when it succeeded."""
    from dojo_epos.flowreport import follow, write_junit

    params = _parse_params(param)
    with _client(api_url, api_key, software_house_id, reseller_id) as client:
        flow_id = _api_call(lambda: client.run_flow(name, params))
        if not (wait or junit):
            out.print(flow_id)
            return
        console.print(f"flow {flow_id}")
        result = _api_call(lambda: follow(client, flow_id, out, timeout=timeout))
    if junit is not None:
        write_junit(result, junit)
        console.print(f"JUnit report: {junit}")
    raise typer.Exit(0 if result.status.value == "SUCCESS" else 1)


@flows_app.command("status")
def flows_status(flow_id: str, api_key: ApiKey, software_house_id: SoftwareHouse,
                 api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """A flow's result, step by step."""
    from dojo_epos.flowreport import render

    with _client(api_url, api_key, software_house_id, reseller_id) as client:
        result = _api_call(lambda: client.get_flow_result(flow_id))
    out.print(render(result))
    raise typer.Exit(0 if result.status.value in ("SUCCESS", "IN_PROGRESS") else 1)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
