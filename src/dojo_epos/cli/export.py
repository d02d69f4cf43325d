"""``dojo-epos export``: files for users of other languages (Postman collections)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dojo_epos.cli.common import fail, out

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Files for users of other languages.")


@app.command("postman")
def postman(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the collections into.")],
    specs: Annotated[Path | None, typer.Option(
        "--specs", envvar="DOJO_EPOS_SPECS",
        help="Folder of Dojo's published documents: the EPOS requests take their summaries and "
             "descriptions from its epos-data-rest.openapi.json.")] = None,
) -> None:
    """Write two Postman collections (format v2.1, runnable with newman): the local platform's
    API, and the EPOS REST contract as Dojo calls an EPOS. Every request tests its status."""
    from dojo_epos.export import write_postman

    try:
        written = write_postman(out_dir, specs)
    except (OSError, ValueError) as exc:
        raise fail(f"cannot write the collections: {exc}") from None
    for path in written:
        out.print(str(path))
