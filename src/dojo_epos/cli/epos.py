"""``dojo-epos epos``: serve your EPOS (``--handler``) or the reference one over REST, or connect it
over the WebSocket; seed the reference EPOS's demo restaurant."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from dojo_epos.cli.common import (
    ApiKey,
    EposDb,
    Host,
    Password,
    PasswordFile,
    Reseller,
    SoftwareHouse,
    console,
    ensure_sqlite_dir,
    fail,
    out,
    password_from,
    run,
)
from dojo_epos.settings import DEFAULT_WS_URL, default_epos_db

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True,
                  help="Serve or connect your EPOS (--handler) or the reference one (a demo restaurant).")


@app.command("seed")
def epos_seed(
    db: EposDb = None,
    orders: Annotated[int | None, typer.Option(help="Also bulk-load this many past orders.")] = None,
) -> None:
    """Build a demo restaurant: areas, tables, waiters, open orders. Re-running adds nothing."""
    from dojo_epos.epos.reference.seed import seed

    url = db or default_epos_db()
    ensure_sqlite_dir(url)
    report = run(seed(url, orders=orders))
    out.print(f"seeded: {report.tables} tables, {report.open_orders} open orders, "
              f"{report.history_orders} past orders added")


HandlerSpec = Annotated[str | None, typer.Option(
    "--handler", envvar="EPOS_HANDLER", show_default=False,
    help="Your handler as module:attribute (a class, instance or factory), e.g. myepos:MyEpos; "
         "default: the reference EPOS.")]
LogLevel = Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")]
LogFormat = Annotated[str, typer.Option("--log-format",
                                        help="text (for a person) or json (one object a line).")]


def _logging(level: str, fmt: str) -> None:
    from dojo_epos.logsetup import configure_logging

    try:
        configure_logging(level, fmt)
    except ValueError as exc:
        raise fail(str(exc)) from None


async def _open_handler(spec: str | None, db: str | None) -> Any:
    """The user's handler (``--handler``), or the reference EPOS on ``db``."""
    if spec is None:
        from dojo_epos.epos.reference import open_reference

        url = db or default_epos_db()
        ensure_sqlite_dir(url)
        return await open_reference(url)
    from dojo_epos.epos.loading import HandlerLoadError, load_handler

    try:
        return await load_handler(spec)
    except HandlerLoadError as exc:
        raise fail(str(exc)) from None


def _describe(spec: str | None, handler: Any) -> str:
    names = [c.name for c in handler.offered_capabilities()]
    if spec is None:
        return f"reference EPOS ({len(names)} capabilities)"
    if not names:
        return f"{spec} (offers no capability: override a method of EposHandler)"
    return f"{spec} ({len(names)} capabilit{'y' if len(names) == 1 else 'ies'}: {', '.join(names)})"


@app.command("serve")
def epos_serve(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(envvar="EPOS_USERNAME", help="Basic-auth user Dojo sends.")],
    password: Password = None,
    password_file: PasswordFile = None,
    host: Host = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8080,
    db: EposDb = None,
    handler: HandlerSpec = None,
    log_level: LogLevel = "info",
    log_format: LogFormat = "text",
    auth_throttle: Annotated[bool, typer.Option(
        help="Answer 429 to a client that keeps failing basic auth.")] = True,
) -> None:
    """Serve your EPOS (--handler) or the reference one over REST (the /v1 routes Dojo calls)."""
    password = password_from(ctx, password, password_file)
    _logging(log_level, log_format)
    import uvicorn

    from dojo_epos.epos.loading import close_handler
    from dojo_epos.epos.rest import build_rest_app

    async def main() -> None:
        epos = await _open_handler(handler, db)
        try:
            app_ = build_rest_app(epos, username=username, password=password,
                                  auth_throttle=auth_throttle)
            # uvicorn's own signal handling: Ctrl-C or SIGTERM lets requests in flight finish.
            server = uvicorn.Server(uvicorn.Config(app_, host=host, port=port, log_config=None,
                                                   log_level=log_level, access_log=False))
            announce = asyncio.create_task(_announce(server, f"{_describe(handler, epos)} over REST"))
            try:
                await server.serve()
            finally:
                announce.cancel()
        finally:
            await close_handler(epos)

    run(main(), cancel_on_sigterm=False)


async def _announce(server: Any, what: str) -> None:
    """Say where ``server`` listens once it does (the port is known only then when it was 0)."""
    while not server.started:
        await asyncio.sleep(0.02)
    host, bound = server.servers[0].sockets[0].getsockname()[:2]
    console.print(f"{what} on http://{host}:{bound}/v1", highlight=False)


@app.command("connect")
def epos_connect(
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    url: Annotated[str, typer.Option("--url", envvar="DOJO_WS_URL",
                                     help="The platform's WebSocket URL (local: ws://127.0.0.1:8000/epos).")
                   ] = DEFAULT_WS_URL,
    reseller_id: Reseller = None,
    db: EposDb = None,
    handler: HandlerSpec = None,
    max_refusals: Annotated[int, typer.Option(
        help="Give up (exit 1) after this many refusals in a row: refused key, wrong URL, TLS; "
             "0: never.")] = 5,
    on_replaced: Annotated[str, typer.Option(
        help="When a newer socket for the same account replaces this one (close 4000): "
             "stop (exit 1) or backoff.")] = "stop",
    replaced_backoff: Annotated[float, typer.Option(
        help="Seconds to wait after being replaced, with --on-replaced backoff.")] = 300.0,
    log_level: LogLevel = "info",
    log_format: LogFormat = "text",
) -> None:
    """Connect your EPOS (--handler) or the reference one to Dojo (or the local platform) over the
    WebSocket; the connection's state is logged as it changes."""
    _logging(log_level, log_format)
    if on_replaced not in ("stop", "backoff"):
        raise fail(f"--on-replaced takes stop or backoff, not {on_replaced!r}")
    if max_refusals < 0:
        raise fail("--max-refusals must be 0 (never give up) or more")
    from dojo_epos.epos.connector import Connector, ConnectorGaveUp
    from dojo_epos.epos.loading import close_handler

    async def main() -> None:
        epos = await _open_handler(handler, db)
        connector = Connector(epos, url, api_key, software_house_id, reseller_id,
                              max_refusals=max_refusals or None,
                              on_replaced="stop" if on_replaced == "stop" else "backoff",
                              replaced_backoff=replaced_backoff)
        console.print(f"{_describe(handler, epos)}: connecting to {url} with key {connector.key_hint}",
                      highlight=False)
        try:
            await connector.run()
        except ConnectorGaveUp as exc:
            raise fail(exc.message, 1) from None
        finally:
            await connector.stop()
            await close_handler(epos)

    run(main())
