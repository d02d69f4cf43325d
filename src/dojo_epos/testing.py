"""Test helpers for EPOS handlers: drive one through the real transports, in memory.

:class:`EposTestClient` plays Dojo's platform. With ``transport="rest"`` it calls the real REST app
(:func:`~dojo_epos.epos.rest.build_rest_app`) through ``httpx.ASGITransport``, splitting params into
path, headers and body exactly as the platform does (:func:`~dojo_epos.contract.restmap.rest_request_for`).
With ``transport="ws"`` it runs the real :class:`~dojo_epos.epos.connector.Connector` over an
in-memory socket (:class:`MemoryWebSocket`), with a JSON-RPC peer on the platform's end. ``call``
behaves the same on both: the result model, or :class:`~dojo_epos.contract.errors.EposError`::

    async with EposTestClient(MyHandler(), transport="ws") as client:
        order = await client.get_order_by_id(order_id="ord_1")      # typed: returns m.Order
        same = await client.call("GetOrderById", {"orderId": "ord_1"})  # a name chosen at run time

The typed methods (one per capability, :class:`~dojo_epos.testing_calls.CapabilityCalls`) are
generated from the catalogue; ``call`` takes any registered name or alias and returns BaseModel.

Every call is recorded in :attr:`EposTestClient.exchanges` (what went on the wire, both ways), so a
test can check the traffic against Dojo's schemas. ``raw_rest`` and ``raw_ws_frame`` send input no
well-behaved platform would, for bad-input tests.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from websockets.exceptions import ConnectionClosedOK

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import Capability, lookup
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.contract.jsonrpc import (
    DEFAULT_MAX_FRAME_BYTES,
    ErrorReply,
    Peer,
    Result,
    loads_strict,
    valid_id,
)
from dojo_epos.contract.restmap import RestRequest, rest_request_for
from dojo_epos.epos.connector import Connection, Connector
from dojo_epos.epos.handler import EposHandler
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.testing_calls import CapabilityCalls, Headers

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_USERNAME",
    "EposTestClient",
    "Exchange",
    "MemoryWebSocket",
    "memory_socket_pair",
]

DEFAULT_USERNAME = "dojo"
DEFAULT_PASSWORD = "dojo-epos-testing"
_PROBE_METHOD = "DojoEposTestingProbe"
_CLOSED = object()


class MemoryWebSocket:
    """One end of an in-memory socket pair: ``send``, ``recv`` and ``close``, like websockets'.

    ``recv`` raises ``ConnectionClosedOK`` once either end closed and the frames already sent
    have been read; ``send`` raises it on a closed pair.
    """

    def __init__(self) -> None:
        self._inbox: asyncio.Queue[object] = asyncio.Queue()
        self._other: MemoryWebSocket | None = None
        self.closed = False

    async def send(self, message: str | bytes) -> None:
        if self.closed or self._other is None:
            raise ConnectionClosedOK(None, None)
        self._other._inbox.put_nowait(message)

    async def recv(self) -> str | bytes:
        item = await self._inbox.get()
        if item is _CLOSED:
            self._inbox.put_nowait(_CLOSED)  # every later recv sees the close too
            raise ConnectionClosedOK(None, None)
        assert isinstance(item, str | bytes)
        return item

    async def close(self) -> None:
        for end in (self, self._other):
            if end is not None and not end.closed:
                end.closed = True
                end._inbox.put_nowait(_CLOSED)


def memory_socket_pair() -> tuple[MemoryWebSocket, MemoryWebSocket]:
    """Two connected ends: what one sends, the other receives."""
    a, b = MemoryWebSocket(), MemoryWebSocket()
    a._other, b._other = b, a
    return a, b


@dataclass
class Exchange:
    """One call as it went over the wire."""

    transport: Literal["rest", "ws"]
    capability: Capability
    request: Any
    """REST: the :class:`RestRequest` sent. WS: the JSON-RPC request frame (a dict)."""
    response: Any
    """REST: the JSON body of the answer. WS: the reply frame (a dict)."""
    status: int | None = None
    """REST: the HTTP status. WS: ``None``."""


R = TypeVar("R", bound=BaseModel)


class EposTestClient(CapabilityCalls):
    """Plays Dojo's platform against a handler, over the real REST app or the real connector."""

    def __init__(
        self,
        handler: EposHandler,
        transport: Literal["rest", "ws"] = "rest",
        *,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        timeout: float = 30.0,
    ) -> None:
        if transport not in ("rest", "ws"):
            raise ValueError(f"transport must be 'rest' or 'ws', not {transport!r}")
        self.handler = handler
        self.transport: Literal["rest", "ws"] = transport
        self.username, self.password = username, password
        #: Safety net against a hung handler; a call that takes longer raises TimeoutError.
        self.timeout = timeout
        self.exchanges: list[Exchange] = []
        #: WS frames from the EPOS that matched no request (should stay empty).
        self.unmatched_frames: list[Any] = []
        self.connector: Connector | None = None
        self._http: httpx.AsyncClient | None = None
        self._socket: MemoryWebSocket | None = None
        self._peer = Peer()
        self._waiting: dict[Any, asyncio.Future[tuple[Any, dict[str, Any]]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> EposTestClient:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def start(self) -> None:
        if self.transport == "rest":
            app = build_rest_app(self.handler, username=self.username, password=self.password)
            self._http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                           base_url="http://epos.test")
            return
        self.connector = Connector(self.handler, "memory://dojo-epos-testing",
                                   "sk_sandbox_dojo_epos_testing", "dojo-epos-testing",
                                   connect=self._open_socket, backoff_initial=0.01,
                                   backoff_max=0.05, grace_period=1)
        self._tasks.append(asyncio.ensure_future(self.connector.run()))
        async with asyncio.timeout(self.timeout):
            await self._connected.wait()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self.connector is not None:
            await self.connector.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _open_socket(self) -> Connection:
        epos_end, platform_end = memory_socket_pair()
        self._socket = platform_end
        self._tasks.append(asyncio.ensure_future(self._read(platform_end)))
        self._connected.set()
        return epos_end

    # -- calls ------------------------------------------------------------------------------

    async def call(
        self,
        capability: str,
        params: Mapping[str, Any] | BaseModel | None = None,
        headers: m.RequestHeaders | Mapping[str, Any] | None = None,
    ) -> BaseModel:
        """Call ``capability`` (any registered name or alias) with ``params`` (wire dict or model).

        ``headers`` are Dojo's request headers (a RequestHeaders or its camelCase dict); they go
        into HTTP headers on REST and ``params.headers`` on WS. Returns the result model; raises
        EposError for an error answer.
        """
        cap = lookup(capability)
        wire = self._wire_params(params, headers)
        async with asyncio.timeout(self.timeout):
            if self.transport == "rest":
                return await self._call_rest(cap, wire)
            return await self._call_ws(cap, wire)

    async def _typed_call(self, capability: str, result: type[R], params: BaseModel | None,
                          headers: Headers, fields: dict[str, Any]) -> R:
        if params is not None and fields:
            raise TypeError(f"pass {capability}'s params as a model or as keyword arguments, not both")
        if params is None:
            try:
                params = lookup(capability).params.model_validate(fields)
            except ValidationError as exc:
                raise TypeError(f"bad arguments for {capability}: {exc}") from None
        answer = await self.call(capability, params, headers)
        if not isinstance(answer, result):
            raise TypeError(f"{capability} answered a {type(answer).__name__}, not {result.__name__}")
        return answer

    def _wire_params(self, params: Mapping[str, Any] | BaseModel | None,
                     headers: m.RequestHeaders | Mapping[str, Any] | None) -> dict[str, Any]:
        if isinstance(params, BaseModel):
            wire = m.to_wire(params, self.transport)
            if not isinstance(wire, dict):
                raise TypeError("params must serialize to a JSON object")
            data = wire
        else:
            data = dict(params or {})
        if headers is not None:
            extra = headers.to_wire(self.transport) if isinstance(headers, BaseModel) else headers
            base = data.get("headers")
            data["headers"] = {**(base if isinstance(base, Mapping) else {}), **extra}
        elif self.transport == "ws":
            data.setdefault("headers", {})  # the WS schemas require it on every request
        return data

    async def _call_rest(self, cap: Capability, params: dict[str, Any]) -> BaseModel:
        request = rest_request_for(cap, params)
        response = await self._send_rest(request)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        self.exchanges.append(Exchange("rest", cap, request, body, response.status_code))
        if response.status_code == 200:
            return cap.result.model_validate(body)
        raise EposError.from_wire(body, status=response.status_code)

    async def _send_rest(self, request: RestRequest) -> httpx.Response:
        assert self._http is not None, "use the client in 'async with' (or call start())"
        # json.dumps escapes what UTF-8 cannot carry (a lone surrogate is valid JSON as "\\ud800"),
        # as Dojo's JSON encoder would; httpx's own encoder would fail on it instead.
        content = None if request.body is None else json.dumps(request.body).encode()
        headers = request.headers if content is None else {
            **request.headers, "content-type": "application/json"}
        return await self._http.request(
            request.method, request.path, headers=headers, content=content,
            auth=httpx.BasicAuth(self.username, self.password))

    async def _call_ws(self, cap: Capability, params: dict[str, Any]) -> BaseModel:
        request_id = self._peer.send_request(cap.rpc_method, params)
        future = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        (frame,) = self._peer.data_to_send()
        await self._send_ws(frame)
        event, reply = await future
        self.exchanges.append(Exchange("ws", cap, json.loads(frame), reply))
        if isinstance(event, Result):
            return cap.result.model_validate(event.result)
        assert isinstance(event, ErrorReply)
        raise event.error

    async def _send_ws(self, frame: str | bytes) -> None:
        assert self._socket is not None, "use the client in 'async with' (or call start())"
        await self._socket.send(frame)

    async def _read(self, socket: MemoryWebSocket) -> None:
        """The platform side of the socket: route each reply to whoever waits for it."""
        while True:
            try:
                text = await socket.recv()
            except ConnectionClosedOK:
                return
            try:
                frame = json.loads(text)
            except ValueError:
                self.unmatched_frames.append(text)
                continue
            key = frame.get("id") if isinstance(frame, dict) else None
            waiter = self._waiting.pop(key, None) if valid_id(key) else None
            if waiter is None:
                self.unmatched_frames.append(frame)
                continue
            self._peer.receive_text(text)
            events = self._peer.events_received()
            event = events[0] if events else None
            if not waiter.done():
                waiter.set_result((event, frame))

    # -- bad input --------------------------------------------------------------------------

    async def raw_rest(
        self,
        method: str,
        path: str,
        *,
        content: bytes | str | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None | Literal["default"] = "default",
    ) -> httpx.Response:
        """Send any HTTP request to the REST app (REST transport only); no checks, no recording.

        ``auth="default"`` uses the client's credentials, ``None`` sends none.
        """
        if self._http is None:
            raise RuntimeError("raw_rest needs transport='rest' and a started client")
        credentials = (self.username, self.password) if auth == "default" else auth
        return await self._http.request(
            method, path, content=content, json=json, headers=dict(headers or {}),
            auth=httpx.BasicAuth(*credentials) if credentials else None)

    async def raw_ws_frame(self, frame: str | bytes) -> dict[str, Any] | None:
        """Send any frame to the connector (WS transport only) and return its reply, if any.

        A frame the EPOS must answer (it has a usable id and is not itself a reply) returns that
        reply. For any other frame, a probe request follows it, and ``None`` is returned once the
        probe is answered: the socket survived, and whatever came back in between is in
        :attr:`unmatched_frames`.
        """
        if self._socket is None:
            raise RuntimeError("raw_ws_frame needs transport='ws' and a started client")
        request_id = _answerable_id(frame)
        async with asyncio.timeout(self.timeout):
            if request_id is not None:
                future: asyncio.Future[tuple[Any, dict[str, Any]]]
                future = asyncio.get_running_loop().create_future()
                self._waiting[request_id] = future
                await self._send_ws(frame)
                _, reply = await future
                return reply
            await self._send_ws(frame)
            probe_id = f"probe-{uuid.uuid4()}"
            probe: asyncio.Future[tuple[Any, dict[str, Any]]]
            probe = asyncio.get_running_loop().create_future()
            self._waiting[probe_id] = probe
            await self._send_ws(json.dumps({"jsonrpc": "2.0", "id": probe_id,
                                            "method": _PROBE_METHOD, "params": {"headers": {}}}))
            _, reply = await probe
            if reply.get("error", {}).get("errorType") != ErrorType.NOT_FOUND.value:
                raise AssertionError(f"probe answered unexpectedly: {reply}")
            return None





def _answerable_id(frame: str | bytes) -> Any:
    """The id the connector will answer ``frame`` under, or None if it will not answer it.

    Mirrors :class:`~dojo_epos.contract.jsonrpc.Peer`: oversized, non-UTF-8, non-JSON, non-object,
    id-less and reply-shaped frames get no answer.
    """
    raw = frame.encode("utf-8", "surrogatepass") if isinstance(frame, str) else bytes(frame)
    if len(raw) > DEFAULT_MAX_FRAME_BYTES:
        return None
    try:
        message = loads_strict(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or "result" in message or "error" in message:
        return None
    value = message.get("id")
    return value if valid_id(value) else None
