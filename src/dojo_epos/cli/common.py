"""What every command group shares: the consoles, the option types, running a coroutine, failing."""

from __future__ import annotations

import asyncio
import contextlib
import signal
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
    "Password",
    "PasswordFile",
    "Reseller",
    "SoftwareHouse",
    "console",
    "ensure_sqlite_dir",
    "fail",
    "out",
    "password_from",
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
Password = Annotated[str | None, typer.Option(
    envvar="EPOS_PASSWORD", show_default=False,
    help="Basic-auth password. Prefer the EPOS_PASSWORD environment variable or --password-file: "
         "a value given here is visible in the process list.")]
PasswordFile = Annotated[Path | None, typer.Option(
    "--password-file", show_default=False, dir_okay=False,
    help="Read the basic-auth password from this file (its first line).")]


def _on_command_line(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def password_from(ctx: typer.Context, password: str | None, password_file: Path | None) -> str:
    """The password from EPOS_PASSWORD, --password-file or (with a warning) --password."""
    if password_file is not None:
        if password is not None and _on_command_line(ctx, "password"):
            raise fail("give --password or --password-file, not both")
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise fail(f"cannot read the password file: {exc.strerror}") from None
        if not lines or not lines[0]:
            raise fail(f"the password file {password_file} is empty")
        return lines[0]
    if not password:
        raise fail("no password: set EPOS_PASSWORD or give --password-file")
    if _on_command_line(ctx, "password"):
        console.print("[yellow]warning:[/] --password puts the password in the process list, where "
                      "any user of this machine can read it; use EPOS_PASSWORD or --password-file")
    return password


def run(coro: Coroutine[Any, Any, Any], *, cancel_on_sigterm: bool = True) -> Any:
    """Run ``coro`` to its end; Ctrl-C exits 130 and SIGTERM 143, both after ``coro``'s own clean-up.

    SIGTERM (what systemd, Docker and Kubernetes send) cancels ``coro`` as Ctrl-C does, so a
    connector finishes the requests in flight instead of dying mid-payment. A coroutine running
    uvicorn's own ``Server.serve`` (which shuts down gracefully on both signals) passes
    ``cancel_on_sigterm=False``.
    """
    terminated = False

    async def main() -> Any:
        nonlocal terminated
        task = asyncio.current_task()
        assert task is not None

        def on_term() -> None:
            nonlocal terminated
            terminated = True
            task.cancel()

        if cancel_on_sigterm:
            with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals off the main thread
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_term)
        return await coro

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        console.print("stopped")
        raise typer.Exit(130) from None
    except asyncio.CancelledError:
        if not terminated:
            raise
        console.print("stopped (SIGTERM)")
        raise typer.Exit(143) from None


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` and return the Exit to raise."""
    console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a ``sqlite:///`` database file."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
