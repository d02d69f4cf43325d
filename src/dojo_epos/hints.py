"""What to tell a person whose network call failed: the URL tried, and what to do about it.

One place for the hints the CLI, the client and the connector give, so each says the same thing:
is the local platform running, how to point at it, and whether the URL tried was real Dojo's default.
No I/O here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from dojo_epos.settings import DEFAULT_API_URL, DEFAULT_WS_URL

__all__ = [
    "LOCAL_API_URL",
    "LOCAL_WS_URL",
    "unreachable_hint",
    "wrong_path_hint",
]

#: Where ``dojo-epos platform serve`` answers by default.
LOCAL_API_URL = "http://127.0.0.1:8000"
#: The local platform's WebSocket endpoint (``/epos``, as Dojo's).
LOCAL_WS_URL = "ws://127.0.0.1:8000/epos"


def _is_ws(url: str) -> bool:
    return urlsplit(url).scheme in ("ws", "wss")


def unreachable_hint(url: str) -> str:
    """The hint for a URL nothing answered at (refused, unknown host, timed out)."""
    if _is_ws(url):
        variable, local, default = "DOJO_WS_URL", LOCAL_WS_URL, DEFAULT_WS_URL
    else:
        variable, local, default = "DOJO_API_URL", LOCAL_API_URL, DEFAULT_API_URL
    if url.rstrip("/") == default.rstrip("/"):
        return (f"{url} is real Dojo (the default URL); for the local platform run "
                f"`dojo-epos platform serve` and set {variable}={local}")
    return f"is `dojo-epos platform serve` running there? For the local platform set {variable}={local}"


def wrong_path_hint(url: str) -> str:
    """The hint for a URL whose server answered but has nothing at that path."""
    if _is_ws(url):
        return (f"the WebSocket endpoint is /epos: {DEFAULT_WS_URL} for Dojo, "
                f"{LOCAL_WS_URL} for the local platform")
    return f"the API base URL has no path: {DEFAULT_API_URL} for Dojo, {LOCAL_API_URL} for the local platform"
