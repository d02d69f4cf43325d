"""``dojo-epos demo``: everything local in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dojo_epos.cli.common import Host, out, run

__all__ = ["demo"]


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

    code = run(run_demo(DemoOptions(data_dir=Path(data), host=host, platform_port=platform_port,
                                     epos_port=epos_port, once=once), console=out))
    raise typer.Exit(code)


