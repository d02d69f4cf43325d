"""The ``dojo-epos`` command: run the demo, the local platform, the reference EPOS, register, test.

One module per command group (``demo``, ``platform``, ``epos`` with ``till``, ``register``, ``flows``,
``call``, ``faults``, ``payments``, ``webhooks``, ``record``, ``replay`` and ``export``); this one
assembles them. Every option also comes from the environment (``DOJO_API_KEY``,
``DOJO_SOFTWARE_HOUSE_ID``, ``DOJO_RESELLER_ID``, ``DOJO_API_URL``, ``DOJO_WS_URL``, ``EPOS_DB``,
``PLATFORM_DB``). Secrets are never printed: keys and passwords appear masked, if at all.
"""

from __future__ import annotations

from typing import Annotated

import typer

from dojo_epos import __version__
from dojo_epos.cli import call, demo, epos, export, faults, flows, payments, platform, register, replay, till
from dojo_epos.cli.common import out

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Dojo's EPOS Data API, both sides: serve, connect, register, test.")
app.command("demo")(demo.demo)
app.add_typer(platform.app, name="platform")
app.add_typer(epos.app, name="epos")
epos.app.add_typer(till.app, name="till")
app.add_typer(register.app, name="register")
app.add_typer(flows.app, name="flows")
app.add_typer(faults.app, name="faults")
app.add_typer(payments.payments_app, name="payments")
app.add_typer(payments.webhooks_app, name="webhooks")
app.command("call")(call.call)
app.command("record")(replay.record)
app.command("replay")(replay.replay)
app.add_typer(export.app, name="export")


@app.callback(invoke_without_command=True)
def _main(version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit()


def main() -> None:
    """Console-script entry point."""
    app()
