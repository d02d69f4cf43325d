"""``dojo-epos platform``: the local stand-in for Dojo's platform."""

from __future__ import annotations

from typing import Annotated

import typer

from dojo_epos.cli.common import Host, console, ensure_sqlite_dir, run
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
) -> None:
    """Run the local stand-in for Dojo's platform (registry, gateway, events, tester, dashboard)."""
    from dojo_epos.platform.app import serve_platform

    url = db or default_platform_db()
    ensure_sqlite_dir(url)
    console.print(f"platform on http://{host}:{port} (dashboard at /dashboard)")
    run(serve_platform(host, port, url, api_key or (), call_timeout=call_timeout,
                       allowed_hosts=allowed_host or ()), cancel_on_sigterm=False)
