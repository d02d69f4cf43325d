"""``dojo-epos call``: one capability of your registered EPOS, the exact request and reply shown."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dojo_epos.cli.common import ApiKey, ApiUrl, Reseller, SoftwareHouse, fail
from dojo_epos.cli.flows import Verbose, parse_params, print_result, tester_call
from dojo_epos.cli.register import client_for
from dojo_epos.settings import DEFAULT_API_URL

__all__ = ["call"]


def call(
    capability: Annotated[str, typer.Argument(help="Any capability name or alias, e.g. GetOrderById.")],
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="KEY=VALUE (repeatable; the value is a string).")] = None,
    json_params: Annotated[str | None, typer.Option(
        "--json", help="The params as one JSON object (WebSocket shape); --param keys override.")] = None,
    transport: Annotated[str | None, typer.Option(
        "--transport", help="rest or ws (default: ws while the EPOS socket is connected, else rest).")]
    = None,
    verbose: Verbose = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
) -> None:
    """Call one capability of your registered EPOS and show the exact request and reply.

    Exit 0 for a reply that is a valid result; 1 for an EPOS error or a schema violation; 3 when the
    EPOS did not answer in time; 2 for a usage or connection error (nothing was sent).
    """
    import json

    from dojo_epos.flowreport import call_lines, exit_code

    params: dict[str, Any] = {}
    if json_params is not None:
        try:
            params = json.loads(json_params)
        except ValueError as exc:
            raise fail(f"--json is not JSON: {exc}") from None
        if not isinstance(params, dict):
            raise fail("--json must be a JSON object")
    params.update(parse_params(param))
    if transport is not None and transport not in ("rest", "ws"):
        raise fail(f"--transport is rest or ws, not {transport!r}")
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        result = tester_call(lambda: client.call_capability(capability, params, transport=transport))
    print_result(call_lines(result, verbose=verbose), api_url, result.flow_id)
    raise typer.Exit(exit_code(result.status))
