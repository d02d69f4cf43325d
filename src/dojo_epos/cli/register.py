"""``dojo-epos register``: register capabilities with Dojo (or the local platform), show them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dojo_epos.cli.common import ApiKey, ApiUrl, Reseller, SoftwareHouse, fail, out
from dojo_epos.settings import DEFAULT_API_URL

__all__ = ["api_call", "app", "client_for"]

app = typer.Typer(no_args_is_help=True, help="Register capabilities with Dojo or locally.")


def _capabilities(names: list[str] | None) -> list[tuple[str, str]]:
    if names:
        return [(n, "v1") for n in names]
    from dojo_epos.epos.handler import EposHandler
    from dojo_epos.epos.reference.handler import ReferenceEpos

    offered: list[Any] = EposHandler.offered_capabilities(ReferenceEpos.__new__(ReferenceEpos))
    return [(c.name, "v1") for c in offered]


def client_for(api_url: str, api_key: str, software_house_id: str, reseller_id: str | None) -> Any:
    from dojo_epos.client import Client

    return Client(api_key, software_house_id, reseller_id, base_url=api_url)


def api_call(call: Any) -> Any:
    from dojo_epos.client import PlatformApiError

    try:
        return call()
    except PlatformApiError as exc:
        raise fail(str(exc), 1) from None
    except Exception as exc:  # network and the like: say what, not a traceback
        raise fail(f"{type(exc).__name__}: {exc}", 1) from None


Capabilities = Annotated[list[str] | None, typer.Option(
    "--capability", help="Capability to register (repeatable); default: all the reference EPOS offers.")]


@app.command("rest")
def register_rest(
    url: Annotated[str, typer.Option("--url", help="Your EPOS's base URL (Dojo appends /v1/...).")],
    username: Annotated[str, typer.Option(help="Basic-auth user Dojo will send.")],
    password: Annotated[str, typer.Option(envvar="EPOS_PASSWORD", show_default=False,
                                          help="Basic-auth password Dojo will send.")],
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
    capability: Capabilities = None,
) -> None:
    """Register (replace) your REST capabilities."""
    caps = _capabilities(capability)
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
) -> None:
    """Register (replace) your WebSocket capabilities."""
    caps = _capabilities(capability)
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        result = api_call(lambda: client.put_ws_integration(caps))
    out.print_json(data=[r.to_wire() for r in result])


@app.command("show")
def register_show(api_key: ApiKey, software_house_id: SoftwareHouse,
                  api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """Show every registered capability (go-live checklist: get all registered capabilities)."""
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        result = api_call(client.get_integrations)
    out.print_json(data=result.to_wire())


