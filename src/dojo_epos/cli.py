"""The ``dojo-epos`` command: run the demo, the local platform, the reference EPOS, register, test.

Every option also comes from the environment (``DOJO_API_KEY``, ``DOJO_SOFTWARE_HOUSE_ID``,
``DOJO_RESELLER_ID``, ``DOJO_API_URL``, ``DOJO_WS_URL``, ``EPOS_DB``, ``PLATFORM_DB``). Secrets are
never printed: keys and passwords appear masked, if at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any

import typer
from rich.console import Console

from dojo_epos import __version__

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


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
