"""The WebSocket endpoint at ``/epos``: authenticate, admit, accept, then feed frames to the gateway.

A refused handshake gets a real HTTP 401, 400 or 429 before the upgrade (the ASGI WebSocket denial
response), so a client sees the status instead of a socket that opens and dies. What happens on an
accepted socket is the :class:`~dojo_epos.platform.gateway.Gateway`'s business.

Faults on the socket itself act here (:mod:`~dojo_epos.platform.socket_faults`): a
``refuse-handshake`` fault of the caller's scope answers its status (401 or 503) before the upgrade,
and an ``ignore-pings`` fault withholds the pongs of the socket's :class:`~dojo_epos.keepalive.
SocketKeepalive` (when the server offers one). Every handshake of an authenticated caller is noted
on the gateway, accepted or refused.
"""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse
from starlette.routing import WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketState

from dojo_epos.keepalive import KEEPALIVE_EXTENSION
from dojo_epos.platform.accounts import AuthFailure, KeyPolicy
from dojo_epos.platform.gateway import EposSession, Gateway, Keepalive
from dojo_epos.platform.socket_faults import SocketFaults

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


def socket_route(gateway: Gateway, keys: KeyPolicy, path: str = "/epos",
                 faults: SocketFaults | None = None) -> WebSocketRoute:
    """The route of the EPOS socket, served by ``gateway`` after ``keys`` let the caller in
    (and ``faults``, when given, do not refuse it)."""

    async def endpoint(websocket: WebSocket) -> None:
        try:
            caller = keys.authenticate(websocket.headers)
        except AuthFailure as exc:
            gateway.refuse()
            log.info("refused a socket: %s (%s)", exc.code, exc.status)
            await _deny(websocket, exc.status, exc.code, exc.message)
            return
        scope = caller.scope
        if not gateway.admit(scope.key_fingerprint):
            log.warning("%s: refused a socket: too many handshakes for this key", scope)
            gateway.note_handshake(scope, 429)
            await _deny(websocket, 429, "too_many_handshakes",
                        f"more than {gateway.handshakes_per_second:g} WebSocket handshakes a "
                        "second for this API key; back off and retry")
            return
        refusal = await faults.refusal(scope) if faults is not None else None
        if refusal is not None and refusal.status is not None:
            gateway.refuse()
            gateway.note_handshake(scope, refusal.status)
            await _deny(websocket, refusal.status, "fault_injected",
                        f"{refusal.describe()}: this handshake is refused on purpose")
            return
        await websocket.accept()
        gateway.note_handshake(scope, 101)
        keepalive: Keepalive | None = websocket.scope.get("extensions", {}).get(KEEPALIVE_EXTENSION)
        if keepalive is not None and faults is not None:
            keepalive.answer_pings_when(lambda: faults.answer_ping(scope))
        client = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else ""
        conn = await gateway.attach(StarletteSocket(websocket), caller, client, keepalive)
        try:
            while await _feed(conn, await websocket.receive()):
                pass
        finally:
            gateway.detach(conn)

    return WebSocketRoute(path, endpoint)


async def _feed(conn: EposSession, message: Message) -> bool:
    """Hand one received message to the session; False once the socket is gone.

    A function of its own so that the frame is let go once handled: the endpoint's loop held the
    last frame in its locals while it waited for the next one, and an idle socket kept its last
    reply (an order, 1.3 KB) for good (tracemalloc on the sockets benchmark)."""
    if message["type"] == "websocket.disconnect":
        return False
    data = message.get("text")
    if data is None:
        data = message.get("bytes") or b""
    try:
        await conn.handle_frame(data)
    except Exception:  # a reply we cannot send means the socket is going away
        log.warning("%s: could not answer a frame", conn.scope, exc_info=True)
    return True


async def _deny(websocket: WebSocket, status: int, code: str, message: str) -> None:
    """Refuse the handshake with an HTTP status (or, on servers without the denial extension,
    close before accepting, which they turn into HTTP 403)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(
            JSONResponse({"error": code, "message": message}, status_code=status))
    else:
        await websocket.close(1008, message)
