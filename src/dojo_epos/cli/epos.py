"""``dojo-epos epos``: the reference EPOS (seed, serve over REST, connect over the WebSocket)."""

from __future__ import annotations

from typing import Annotated

import typer

from dojo_epos.cli.common import (
    ApiKey,
    EposDb,
    Host,
    Reseller,
    SoftwareHouse,
    console,
    ensure_sqlite_dir,
    out,
    run,
)
from dojo_epos.settings import DEFAULT_WS_URL, default_epos_db

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="The reference EPOS (a demo restaurant).")


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


@app.command("serve")
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
    ensure_sqlite_dir(url)

    async def main() -> None:
        epos = await open_reference(url)
        try:
            console.print(f"reference EPOS over REST on http://{host}:{port}/v1 "
                          f"({len(epos.offered_capabilities())} capabilities)")
            await serve(epos, username=username, password=password, host=host, port=port)
        finally:
            await epos.aclose()

    run(main())


@app.command("connect")
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
    ensure_sqlite_dir(db_url)

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

    run(main())


