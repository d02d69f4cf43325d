"""``dojo-epos flows``: the EPOS tester tool's flows, one line per step, documented exit codes.

``flows run --wait`` and ``flows status`` exit 0 SUCCESS, 1 FAILURE, 2 usage or connection error
(nothing ran), 3 TIMED_OUT (see :mod:`dojo_epos.flowreport`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from dojo_epos.cli.common import ApiKey, ApiUrl, Reseller, SoftwareHouse, console, fail, out
from dojo_epos.cli.register import api_call, client_for
from dojo_epos.settings import DEFAULT_API_URL

__all__ = ["Verbose", "app", "parse_params", "print_result", "tester_call"]

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, help="The EPOS tester tool's flows.")


@app.command("list")
def flows_list(api_key: ApiKey, software_house_id: SoftwareHouse,
               api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """The flows the tester offers, with their parameters."""
    from rich.table import Table

    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        flows = api_call(client.list_flows)
    table = Table("flow", "parameters")
    for flow in flows:
        params = ", ".join(f"{p.name}{'' if p.required else '?'}:{p.type}"
                           + (f"={p.default}" if p.default else "") for p in flow.params)
        table.add_row(flow.name, params)
    out.print(table)


def parse_params(pairs: list[str] | None) -> dict[str, str]:
    params = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise fail(f"--param takes KEY=VALUE, not {pair!r}")
        params[key] = value
    return params


def tester_call(call: Callable[[], T]) -> T:
    """Like ``api_call``, with the tester's exit code when nothing ran (usage or connection error)."""
    from dojo_epos.client import PlatformApiError, PlatformUnreachable
    from dojo_epos.flowreport import EXIT_USAGE

    try:
        return call()
    except (PlatformApiError, PlatformUnreachable) as exc:
        raise fail(str(exc), EXIT_USAGE) from None


def print_result(lines: list[str], api_url: str, flow_id: str) -> None:
    """The result's lines on stdout, then the run's dashboard link (the local platform's only)."""
    from dojo_epos.flowreport import dashboard_url

    for line in lines:
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    link = dashboard_url(api_url, flow_id)
    if link:
        out.print(f"Dashboard: {link}", markup=False, highlight=False, soft_wrap=True)


Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show every step's details (JSON).")]


@app.command("run")
def flows_run(
    name: Annotated[str, typer.Argument(help="Flow name, e.g. 'Pay at Table'.")],
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    param: Annotated[list[str] | None, typer.Option("--param", help="KEY=VALUE (repeatable).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the flow to its end.")] = False,
    junit: Annotated[Path | None, typer.Option(
        "--junit", help="Write a JUnit XML report (implies --wait).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the flow to end.")] = 600.0,
    verbose: Verbose = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
) -> None:
    """Run a flow; with --wait, one line per step, then exit 0 SUCCESS, 1 FAILURE, 3 TIMED_OUT.

    Exit 2 means nothing ran: a usage error, the platform refused the request, or it is unreachable.
    """
    from dojo_epos.flowreport import exit_code, step_lines, wait_for, write_junit

    params = parse_params(param)
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        flow_id = tester_call(lambda: client.run_flow(name, params))
        if not (wait or junit):
            out.print(flow_id)
            return
        with console.status(f"running {name} (flow {flow_id})"):
            result = tester_call(lambda: wait_for(client, flow_id, timeout=timeout))
    print_result(step_lines(result, verbose=verbose), api_url, flow_id)
    if junit is not None:
        write_junit(result, junit)
        console.print(f"JUnit report: {junit}")
    raise typer.Exit(exit_code(result.status))


@app.command("status")
def flows_status(flow_id: str, api_key: ApiKey, software_house_id: SoftwareHouse,
                 verbose: Verbose = False,
                 api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """A flow's result, one line per step (exit codes as for ``flows run``; 0 while IN_PROGRESS)."""
    from dojo_epos.flowreport import exit_code, step_lines

    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        result = tester_call(lambda: client.get_flow_result(flow_id))
    print_result(step_lines(result, verbose=verbose), api_url, flow_id)
    raise typer.Exit(0 if result.status.value == "IN_PROGRESS" else exit_code(result.status))
