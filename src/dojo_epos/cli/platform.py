"""``dojo-epos platform``: the local stand-in for Dojo's platform."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dojo_epos.cli.common import Host, console, ensure_sqlite_dir, fail, run
from dojo_epos.settings import default_platform_db

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="The local stand-in for Dojo's platform.")


@app.command("serve")
def platform_serve(
    host: Host = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Annotated[str | None, typer.Option("--db", envvar="PLATFORM_DB",
                                           help="Database URL (default: SQLite in ./data).")] = None,
    api_key: Annotated[list[str] | None, typer.Option(
        "--api-key", help="Accept only these keys (repeatable); default: any well-formed key.")] = None,
    call_timeout: Annotated[float, typer.Option(help="Seconds to wait for an EPOS's answer.")] = 10.0,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", help="Also answer requests for this Host name (repeatable); by default "
                               "only the bound address and loopback names (DNS rebinding).")] = None,
    bus: Annotated[str, typer.Option(
        "--bus", envvar="PLATFORM_BUS",
        help="Bus between workers: 'memory' (one process) or nats://host:port.")] = "memory",
    bus_namespace: Annotated[str, typer.Option(
        "--bus-namespace", envvar="PLATFORM_BUS_NAMESPACE",
        help="Prefix of the NATS subjects: platforms sharing one NATS server keep apart by it."
    )] = "dojo-epos",
    log_level: Annotated[str, typer.Option(
        "--log-level", help="uvicorn's log level (warning and above leave out the access log).")
    ] = "info",
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
        raise fail(str(exc)) from None
    if workers > 1 and not distributed:
        raise fail("--workers above 1 needs a bus between them: --bus nats://127.0.0.1:4222")
    if workers > 1 and not url.startswith(("postgresql", "postgres")):
        raise fail("--workers above 1 needs a database they share: --db postgresql://...")
    ensure_sqlite_dir(url)
    from dojo_epos.platform.workers import listening_socket, listening_sockets, serve_workers

    try:
        sockets = (listening_sockets(host, port, workers) if workers > 1
                   else [listening_socket(host, port)])
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = sockets[0].getsockname()[1]  # the port the system chose, for --port 0
    several = f"{workers} workers, " if workers > 1 else ""
    console.print(f"platform on http://{host}:{bound} (dashboard at /dashboard), {several}bus {bus}")
    console.file.flush()  # a process reading our output sees where we listen at once

    async def worker(index: int, sockets: Any) -> None:
        await serve_platform(host, bound, url, api_key or (), call_timeout=call_timeout,
                             bus_url=bus, bus_namespace=bus_namespace, sockets=sockets,
                             log_level=log_level, allowed_hosts=allowed_host or ())

    if workers == 1:
        run(worker(0, sockets), cancel_on_sigterm=False)
        return
    raise typer.Exit(serve_workers(workers, sockets, worker))
