"""The WebSocket endpoint at ``/epos``: authenticate, admit, accept, then feed frames to the gateway.

A refused handshake gets a real HTTP 401, 400 or 429 before the upgrade (the ASGI WebSocket denial
response), so a client sees the status instead of a socket that opens and dies. What happens on an
accepted socket is the :class:`~dojo_epos.platform.gateway.Gateway`'s business.
"""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketState

from dojo_epos.platform.accounts import AuthFailure, KeyPolicy
from dojo_epos.platform.gateway import Gateway

__all__ = ["StarletteSocket", "socket_route"]

log = logging.getLogger("dojo_epos.platform.gateway")


class StarletteSocket:
    """Starlette's WebSocket as the gateway's :class:`~dojo_epos.platform.gateway.TextSocket`."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def send_text(self, text: str) -> None:
        await self.websocket.send_text(text)

    async def close(self, code: int, reason: str) -> None:
        if self.websocket.application_state == WebSocketState.CONNECTED:
            try:
                await self.websocket.close(code, reason)
            except Exception:  # already gone: nothing left to close
                log.debug("close after the socket went away")


def socket_route(gateway: Gateway, keys: KeyPolicy, path: str = "/epos") -> WebSocketRoute:
    """The route of the EPOS socket, served by ``gateway`` after ``keys`` let the caller in."""

    async def endpoint(websocket: WebSocket) -> None:
        try:
            caller = keys.authenticate(websocket.headers)
        except AuthFailure as exc:
            gateway.refuse()
            log.info("refused a socket: %s (%s)", exc.code, exc.status)
            await _deny(websocket, exc.status, exc.code, exc.message)
            return
        if not gateway.admit(caller.scope.key_fingerprint):
            log.warning("%s: refused a socket: too many handshakes for this key", caller.scope)
            await _deny(websocket, 429, "too_many_handshakes",
                        f"more than {gateway.handshakes_per_second:g} WebSocket handshakes a "
                        "second for this API key; back off and retry")
            return
        await websocket.accept()
        client = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else ""
        conn = await gateway.attach(StarletteSocket(websocket), caller, client)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("text")
                if data is None:
                    data = message.get("bytes") or b""
                try:
                    await conn.handle_frame(data)
                except Exception:  # a reply we cannot send means the socket is going away
                    log.warning("%s: could not answer a frame", caller.scope, exc_info=True)
        finally:
            gateway.detach(conn)

    return WebSocketRoute(path, endpoint)


async def _deny(websocket: WebSocket, status: int, code: str, message: str) -> None:
    """Refuse the handshake with an HTTP status (or, on servers without the denial extension,
    close before accepting, which they turn into HTTP 403)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(
            JSONResponse({"error": code, "message": message}, status_code=status))
    else:
        await websocket.close(1008, message)
