"""``dojo-epos flows``: the EPOS tester tool's flows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dojo_epos.cli.common import ApiKey, ApiUrl, Reseller, SoftwareHouse, console, fail, out
from dojo_epos.cli.register import api_call, client_for
from dojo_epos.settings import DEFAULT_API_URL

__all__ = ["app"]

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


def _parse_params(pairs: list[str] | None) -> dict[str, str]:
    params = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise fail(f"--param takes KEY=VALUE, not {pair!r}")
        params[key] = value
    return params


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
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
) -> None:
    """Run a flow; with --wait, show its steps live and exit 0 only when it succeeded."""
    from dojo_epos.flowreport import follow, write_junit

    params = _parse_params(param)
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        flow_id = api_call(lambda: client.run_flow(name, params))
        if not (wait or junit):
            out.print(flow_id)
            return
        console.print(f"flow {flow_id}")
        result = api_call(lambda: follow(client, flow_id, out, timeout=timeout))
    if junit is not None:
        write_junit(result, junit)
        console.print(f"JUnit report: {junit}")
    raise typer.Exit(0 if result.status.value == "SUCCESS" else 1)


@app.command("status")
def flows_status(flow_id: str, api_key: ApiKey, software_house_id: SoftwareHouse,
                 api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """A flow's result, step by step."""
    from dojo_epos.flowreport import render

    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        result = api_call(lambda: client.get_flow_result(flow_id))
    out.print(render(result))
    raise typer.Exit(0 if result.status.value in ("SUCCESS", "IN_PROGRESS") else 1)


