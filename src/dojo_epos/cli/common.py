"""What every command group shares: the consoles, the option types, running a coroutine, failing."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = [
    "ApiKey",
    "ApiUrl",
    "EposDb",
    "Host",
    "Reseller",
    "SoftwareHouse",
    "console",
    "ensure_sqlite_dir",
    "fail",
    "out",
    "run",
]

#: Messages for the person at the terminal (stderr); ``out`` is for results (stdout).
console = Console(stderr=True, soft_wrap=True)
out = Console()

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


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to its end; Ctrl-C prints "stopped" and exits 130."""
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        console.print("stopped")
        raise typer.Exit(130) from None


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` and return the Exit to raise."""
    console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a ``sqlite:///`` database file."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
