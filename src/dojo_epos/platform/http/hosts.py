"""Refuse requests whose ``Host`` is not this server (DNS rebinding).

A web page the user visits can point a name it controls at 127.0.0.1 and then read the dashboard
and the platform API from the browser, under its own name. Such requests carry that name in
``Host``; this middleware answers them 421 (HTTP) or closes the handshake (WebSocket) unless the name
is the bound address, a loopback name, or one allowed by a setting (``--allowed-host``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = ["LOOPBACK_NAMES", "HostGuard", "allowed_hosts_for"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

ASGIApp = Any


def _host_name(header: str) -> str:
    """The name part of a Host header: no port, no IPv6 brackets, lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def allowed_hosts_for(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names a server bound to ``bound`` answers to: loopback names, ``bound`` itself (unless it
    is a wildcard address) and ``extra``."""
    names = set(LOOPBACK_NAMES) | {_host_name(h) for h in extra}
    if bound not in ("0.0.0.0", "::", ""):
        names.add(_host_name(bound))
    return frozenset(names)


class HostGuard:
    """ASGI middleware: only requests whose Host is in ``allowed`` reach ``app``."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(_host_name(h) for h in allowed)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")
        if _host_name(host) in self.allowed:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"error": "misdirected_request",
                           "message": "this server does not answer to that Host; start it with "
                                      "--allowed-host NAME to allow a name"}).encode()
        await send({"type": "http.response.start", "status": 421,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
