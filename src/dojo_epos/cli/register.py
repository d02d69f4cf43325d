"""``dojo-epos register``: register capabilities with Dojo (or the local platform), show them.

What gets registered is said explicitly, one way only: ``--handler module:MyEpos`` (exactly what
that handler offers), ``--capability NAME`` (repeatable), or ``--reference`` (everything the
reference EPOS offers, as the demo does). With none of them the command refuses and says how.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from dojo_epos.cli.common import (
    ApiKey,
    ApiUrl,
    Password,
    PasswordFile,
    Reseller,
    SoftwareHouse,
    fail,
    out,
    password_from,
)
from dojo_epos.settings import DEFAULT_API_URL

__all__ = ["api_call", "app", "client_for"]

app = typer.Typer(no_args_is_help=True, help="Register capabilities with Dojo or locally.")
T = TypeVar("T")

NOTHING_CHOSEN = ("say what to register: --handler module:MyEpos (what your handler offers), "
                  "--capability NAME (repeatable), or --reference (the reference EPOS's capabilities)")


def _handler_capabilities(spec: str) -> list[str]:
    from dojo_epos.epos.loading import HandlerLoadError, close_handler, load_handler

    async def offered() -> list[str]:
        handler = await load_handler(spec)
        try:
            return [c.name for c in handler.offered_capabilities()]
        finally:
            await close_handler(handler)

    try:
        names = asyncio.run(offered())
    except HandlerLoadError as exc:
        raise fail(str(exc)) from None
    if not names:
        raise fail(f"{spec} offers no capability (override at least one method of EposHandler)")
    return names


def _reference_capabilities() -> list[str]:
    from dojo_epos.epos.handler import EposHandler
    from dojo_epos.epos.reference.handler import ReferenceEpos

    # Which methods it overrides is a fact of the class: no database needed to read it.
    offered = EposHandler.offered_capabilities(ReferenceEpos.__new__(ReferenceEpos))
    return [c.name for c in offered]


def chosen_capabilities(names: list[str] | None, handler: str | None,
                        reference: bool) -> list[tuple[str, str]]:
    """The (name, version) pairs to register, from exactly one of the three ways of choosing."""
    chosen = sum([bool(names), handler is not None, reference])
    if chosen == 0:
        raise fail(NOTHING_CHOSEN)
    if chosen > 1:
        raise fail("choose one of --handler, --capability and --reference")
    if handler is not None:
        picked = _handler_capabilities(handler)
    elif reference:
        picked = _reference_capabilities()
    else:
        picked = list(names or [])
    return [(n, "v1") for n in picked]


def _when(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%d %H:%M:%S"))


def client_for(api_url: str, api_key: str, software_house_id: str, reseller_id: str | None) -> Any:
    from dojo_epos.client import Client

    return Client(api_key, software_house_id, reseller_id, base_url=api_url)


def api_call(call: Callable[[], T]) -> T:
    """Run one platform API call; a refusal or a network failure is one clear line, exit 1."""
    from dojo_epos.client import PlatformApiError, PlatformUnreachable

    try:
        return call()
    except (PlatformApiError, PlatformUnreachable) as exc:
        raise fail(str(exc), 1) from None


Capabilities = Annotated[list[str] | None, typer.Option(
    "--capability", help="Capability to register (repeatable).")]
Handler = Annotated[str | None, typer.Option(
    "--handler", envvar="EPOS_HANDLER", show_default=False,
    help="Register what this handler offers (module:attribute, as for `epos serve`).")]
Reference = Annotated[bool, typer.Option(
    "--reference", help="Register everything the reference EPOS offers.")]


@app.command("rest")
def register_rest(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url", help="Your EPOS's base URL (Dojo appends /v1/...).")],
    username: Annotated[str, typer.Option(help="Basic-auth user Dojo will send.")],
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    password: Password = None,
    password_file: PasswordFile = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
    capability: Capabilities = None,
    handler: Handler = None,
    reference: Reference = False,
) -> None:
    """Register (replace) your REST capabilities."""
    password = password_from(ctx, password, password_file)
    caps = chosen_capabilities(capability, handler, reference)
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        result = api_call(lambda: client.put_rest_integration(url, caps, username=username,
                                                              password=password))
    out.print_json(data=[r.to_wire() for r in result])


@app.command("ws")
def register_ws(
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
    capability: Capabilities = None,
    handler: Handler = None,
    reference: Reference = False,
) -> None:
    """Register (replace) your WebSocket capabilities."""
    caps = chosen_capabilities(capability, handler, reference)
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        result = api_call(lambda: client.put_ws_integration(caps))
    out.print_json(data=[r.to_wire() for r in result])


@app.command("show")
def register_show(
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the platform's JSON instead.")] = False,
) -> None:
    """Show every registered capability as a table (go-live checklist: get all registered capabilities)."""
    from rich.table import Table

    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        result = api_call(client.get_integrations)
    if as_json:
        out.print_json(data=result.to_wire())
        return
    table = Table()
    for heading in ("transport", "capability", "version", "registered at"):
        table.add_column(heading, no_wrap=True)
    table.add_column("EPOS URL", overflow="fold")  # a narrow terminal wraps the URL, never cuts a name
    for rest in result.rest_integrations:
        for cap in rest.capabilities:
            table.add_row("REST", cap.name, cap.version, _when(cap.updated_at), rest.url)
    for ws in result.ws_integrations:
        for cap in ws.capabilities:
            table.add_row("WebSocket", cap.name, cap.version, _when(cap.updated_at), "-")
    for dojo in result.dojo_managed_integrations:
        for cap in dojo.capabilities:
            table.add_row("Dojo-managed", cap.name, cap.version, _when(cap.updated_at), "-")
    if not table.rows:
        out.print("nothing registered yet: `dojo-epos register rest|ws --handler module:MyEpos`")
        return
    out.print(table)
