"""``dojo-epos faults add|list|clear``: make the local platform misbehave on demand (issue 14).

The same credentials and options as the other platform commands (``--api-key``,
``--software-house-id``, ``--reseller-id``, ``--api-url`` or their ``DOJO_*`` variables); the
faults are the account scope's own. The platform checks every fault: a refusal is one line naming
the field, exit 1. The kinds and their parameters are listed in ``docs/faults.md``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dojo_epos.cli.common import ApiKey, ApiUrl, Reseller, SoftwareHouse, fail, out
from dojo_epos.cli.register import api_call, client_for
from dojo_epos.settings import DEFAULT_API_URL

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Faults on demand on the local platform.")

AsJson = Annotated[bool, typer.Option("--json", help="Print the platform's JSON instead.")]

KINDS_HELP = ("What goes wrong: delay, drop-before-send, drop-after-send, never-answer, "
              "deliver-twice, resend-new-id, close (WebSocket calls); rest-delay, rest-reset, "
              "rest-retry-after-timeout (REST calls); webhook-delay, webhook-duplicate, "
              "webhook-drop (webhook deliveries); refuse-handshake, ignore-pings (the socket).")


def _parameters(fault: dict[str, Any]) -> str:
    shown = []
    if fault.get("delay") or fault.get("delayMax") is not None:
        shown.append(f"{fault['delay']:g}-{fault['delayMax']:g} s" if fault.get("delayMax")
                     is not None else f"{fault['delay']:g} s")
    if fault.get("closeCode") is not None:
        shown.append(f"code {fault['closeCode']}")
    if fault.get("status") is not None:
        shown.append(f"HTTP {fault['status']}")
    return " ".join(shown) or "-"


@app.command("add")
def faults_add(
    kind: Annotated[str, typer.Argument(help=KINDS_HELP, show_default=False)],
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
    capability: Annotated[str | None, typer.Option(
        help="Only calls of this capability (default: every call).")] = None,
    delay: Annotated[float | None, typer.Option(help="Seconds of delay (the delay kinds).")] = None,
    delay_max: Annotated[float | None, typer.Option(
        "--delay-max", help="A random delay between --delay and this, in seconds.")] = None,
    close_code: Annotated[int | None, typer.Option(
        "--close-code", help="The close code of a close fault: 1001, 1012 or 4000.")] = None,
    status: Annotated[int | None, typer.Option(
        help="The HTTP status of a refuse-handshake fault: 401 or 503.")] = None,
    times: Annotated[int | None, typer.Option(
        help="Fire this many times, then go (default: until cleared).")] = None,
    as_json: AsJson = False,
) -> None:
    """Set a fault for your account; prints its id."""
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        fault = api_call(lambda: client.add_fault(
            kind, capability=capability, delay=delay, delay_max=delay_max, close_code=close_code,
            status=status, times=times))
    if as_json:
        out.print_json(data=fault)
        return
    out.print(f"set {fault['description']}", highlight=False)


@app.command("list")
def faults_list(
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
    as_json: AsJson = False,
) -> None:
    """The faults set for your account, in the order they act."""
    from rich.table import Table

    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        faults = api_call(client.list_faults)
    if as_json:
        out.print_json(data=faults)
        return
    if not faults:
        out.print("no faults set: `dojo-epos faults add KIND ...`")
        return
    table = Table()
    for heading in ("id", "kind", "capability", "parameters", "times left"):
        table.add_column(heading, no_wrap=True)
    for fault in faults:
        table.add_row(fault["id"], fault["kind"], fault.get("capability") or "every call",
                      _parameters(fault),
                      "until cleared" if fault.get("times") is None else str(fault["times"]))
    out.print(table)


@app.command("clear")
def faults_clear(
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    fault_id: Annotated[str | None, typer.Argument(help="The fault to clear (see `faults list`).",
                                                   show_default=False)] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
    clear_all: Annotated[bool, typer.Option("--all", help="Clear every fault of your account.")] = False,
) -> None:
    """Clear one fault (by id) or, with --all, every one."""
    if (fault_id is None) == (not clear_all):
        raise fail("give a fault id or --all (not both)")
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        cleared = api_call(lambda: client.clear_faults(fault_id))
    out.print(f"cleared {cleared} fault{'' if cleared == 1 else 's'}")
