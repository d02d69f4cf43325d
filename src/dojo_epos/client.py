"""A client for Dojo's platform API, real (``https://api.dojo.tech``) or local, sync and async.

It covers what an EPOS vendor uses: the capability registry (``/epos/integrations*``), POS events
(``/epos/events``), the EPOS tester tool (``/epos-tester-tool/flows``), and payment intents, refunds
and webhooks (:mod:`dojo_epos.payments_client`), and the local platform's faults on demand
(:mod:`dojo_epos.faults_client`). Every request carries
``Authorization: Basic <key>`` with the key as is (not base64), ``software-house-id``, the optional
``reseller-id`` and the hard-coded API ``version`` header (go-live checklist: not configurable).

:class:`Client` and :class:`AsyncClient` share one description of each call (method, path, body and
how to read the answer), so they cannot drift apart. A non-2xx answer raises
:class:`PlatformApiError` with the status and the parsed body; a platform that cannot be reached
raises :class:`PlatformUnreachable`, naming the URL and what to do (:mod:`dojo_epos.hints`).
Both take an httpx ``transport``, so tests can talk to the local platform in-process::

    client = AsyncClient("sk_sandbox_abc", "my-software-house",
                         base_url="http://platform", transport=httpx.ASGITransport(app))
    await client.put_ws_integration(["SearchOrders", "GetOrderById"])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import TypeAdapter

from dojo_epos.clientcall import Call as _Call
from dojo_epos.contract.capabilities import Capability
from dojo_epos.contract.platform_models import (
    AllIntegrationsResponse,
    CapabilityRequest,
    DojoManagedIntegrationResponse,
    EventRequest,
    PosEventType,
    RestAuthRequest,
    RestBasicAuthRequest,
    RestIntegrationRequest,
    RestIntegrationResponse,
    WsIntegrationRequest,
    WsIntegrationResponse,
)
from dojo_epos.contract.tester_models import FlowDescription, FlowResult, RunFlowRequest, SingleCallRequest
from dojo_epos.faults_client import AsyncFaultsMixin, FaultsMixin
from dojo_epos.hints import unreachable_hint, wrong_path_hint
from dojo_epos.payments_client import AsyncPaymentsMixin, PaymentsMixin
from dojo_epos.settings import DEFAULT_API_URL, DOJO_API_VERSION

__all__ = ["AsyncClient", "CapabilitySpec", "Client", "PlatformApiError", "PlatformUnreachable"]

T = TypeVar("T")

#: What a capabilities argument may hold: a name (version ``v1``), a ``(name, version)`` pair, a
#: catalogue row, or a CapabilityRequest.
CapabilitySpec = str | tuple[str, str] | Capability | CapabilityRequest

_TESTER = "/epos-tester-tool/flows"
_CALLS = "/epos-tester-tool/calls"
_ENTITY_FIELD = {
    PosEventType.ORDER_UPDATED: "orderId",
    PosEventType.PARTY_UPDATED: "partyId",
    PosEventType.RESERVATION_UPDATED: "reservationId",
}


class PlatformApiError(Exception):
    """A non-2xx answer from the platform API: ``status``, the parsed ``body`` and the ``url``."""

    def __init__(self, status: int, body: Any, url: str | None = None, hint: str | None = None) -> None:
        self.status = status
        self.body = body
        self.url = url
        # The platform's own API says "message"; the payments API's problem details say "detail".
        message = (body.get("message") or body.get("detail")) if isinstance(body, dict) else None
        text = f"HTTP {status}{' from ' + url if url else ''}: {message or body}"
        super().__init__(f"{text} ({hint})" if hint else text)


class PlatformUnreachable(Exception):
    """No answer from the platform at all (refused, unknown host, time-out, TLS): says where and why."""

    def __init__(self, base_url: str, url: str, cause: Exception) -> None:
        self.base_url = base_url
        self.url = url
        reason = str(cause) or type(cause).__name__
        super().__init__(f"cannot reach {url} ({type(cause).__name__}: {reason}); "
                         f"{unreachable_hint(base_url)}")


def _capabilities(items: Iterable[CapabilitySpec]) -> list[CapabilityRequest]:
    out = []
    for item in items:
        if isinstance(item, CapabilityRequest):
            out.append(item)
        elif isinstance(item, Capability):
            out.append(CapabilityRequest(name=item.name, version="v1"))
        elif isinstance(item, tuple):
            out.append(CapabilityRequest(name=item[0], version=item[1]))
        else:
            out.append(CapabilityRequest(name=item, version="v1"))
    return out


def _model_list(adapter: TypeAdapter[list[T]]) -> Callable[[Any], list[T]]:
    return adapter.validate_python


def _flows(body: Any) -> list[FlowDescription]:
    # spec defect #39: the spec types GET /flows as one FlowDescription; accept both.
    items = body if isinstance(body, list) else [body]
    return [FlowDescription.model_validate(item) for item in items]


def _flow_id(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, dict) and isinstance(body.get("flowID"), str):
        return str(body["flowID"])
    raise PlatformApiError(200, body)


_REST_LIST = TypeAdapter(list[RestIntegrationResponse])
_WS_LIST = TypeAdapter(list[WsIntegrationResponse])
_DOJO_LIST = TypeAdapter(list[DojoManagedIntegrationResponse])


class _Calls:
    """The catalogue of platform API calls, shared by both clients."""

    @staticmethod
    def get_integrations() -> _Call[AllIntegrationsResponse]:
        return _Call("GET", "/epos/integrations", AllIntegrationsResponse.model_validate)

    @staticmethod
    def get_rest() -> _Call[list[RestIntegrationResponse]]:
        return _Call("GET", "/epos/integrations/rest", _model_list(_REST_LIST))

    @staticmethod
    def put_rest(url: str, capabilities: Iterable[CapabilitySpec], username: str,
                 password: str) -> _Call[list[RestIntegrationResponse]]:
        body = RestIntegrationRequest(
            url=url, capabilities=_capabilities(capabilities),
            auth=RestAuthRequest(basic=RestBasicAuthRequest(username=username, password=password)),
        ).to_wire()
        return _Call("PUT", "/epos/integrations/rest", _model_list(_REST_LIST), json=body)

    @staticmethod
    def get_ws() -> _Call[list[WsIntegrationResponse]]:
        return _Call("GET", "/epos/integrations/ws", _model_list(_WS_LIST))

    @staticmethod
    def put_ws(capabilities: Iterable[CapabilitySpec]) -> _Call[list[WsIntegrationResponse]]:
        body = WsIntegrationRequest(capabilities=_capabilities(capabilities)).to_wire()
        return _Call("PUT", "/epos/integrations/ws", _model_list(_WS_LIST), json=body)

    @staticmethod
    def get_dojo() -> _Call[list[DojoManagedIntegrationResponse]]:
        return _Call("GET", "/epos/integrations/dojo", _model_list(_DOJO_LIST))

    @staticmethod
    def send_event(event_type: PosEventType | str, entity_id: str) -> _Call[EventRequest]:
        kind = PosEventType(event_type)
        body = {"eventType": kind.value, "event": {_ENTITY_FIELD[kind]: entity_id}}
        return _Call("POST", "/epos/events", EventRequest.model_validate, json=body)

    @staticmethod
    def list_events(limit: int) -> _Call[list[dict[str, Any]]]:
        def parse(body: Any) -> list[dict[str, Any]]:
            return list(body["events"])
        return _Call("GET", "/epos/events", parse, params={"limit": str(limit)})

    @staticmethod
    def list_flows() -> _Call[list[FlowDescription]]:
        return _Call("GET", _TESTER, _flows)

    @staticmethod
    def run_flow(flow: str, params: Mapping[str, Any] | None) -> _Call[str]:
        body = RunFlowRequest(flow=flow, params=dict(params or {})).to_wire()
        return _Call("POST", _TESTER, _flow_id, json=body)

    @staticmethod
    def get_flow_result(flow_id: str) -> _Call[FlowResult]:
        return _Call("GET", f"{_TESTER}/{flow_id}", FlowResult.model_validate)

    @staticmethod
    def call_capability(capability: str, params: Mapping[str, Any] | None,
                        transport: str | None) -> _Call[FlowResult]:
        body = SingleCallRequest(capability=capability, params=dict(params or {}),
                                 transport=transport).to_wire()
        return _Call("POST", _CALLS, FlowResult.model_validate, json=body)


def _headers(api_key: str, software_house_id: str, reseller_id: str | None) -> dict[str, str]:
    headers = {
        "Authorization": f"Basic {api_key}",
        "software-house-id": software_house_id,
        "version": DOJO_API_VERSION,
        "Accept": "application/json",
    }
    if reseller_id:
        headers["reseller-id"] = reseller_id
    return headers


def _read(call: _Call[T], response: httpx.Response, base_url: str) -> T:
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        body = response.text
    if not response.is_success:
        hint = None
        if response.status_code == 404 and urlsplit(base_url).path.strip("/"):
            hint = wrong_path_hint(base_url)  # the platform's paths start at the host
        raise PlatformApiError(response.status_code, body, str(response.request.url), hint)
    return call.parse(body)


class _Base:
    def __init__(self, api_key: str, software_house_id: str, reseller_id: str | None,
                 base_url: str) -> None:
        self._headers = _headers(api_key, software_house_id, reseller_id)
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:  # never show the key
        return f"{type(self).__name__}(base_url={self.base_url!r})"


class Client(_Base, PaymentsMixin, FaultsMixin):
    """Blocking client (httpx.Client underneath); use as a context manager or call close()."""

    def __init__(self, api_key: str, software_house_id: str, reseller_id: str | None = None, *,
                 base_url: str = DEFAULT_API_URL, transport: httpx.BaseTransport | None = None,
                 timeout: float = 30.0) -> None:
        super().__init__(api_key, software_house_id, reseller_id, base_url)
        self._http = httpx.Client(base_url=self.base_url, headers=self._headers,
                                  transport=transport, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: _Call[T]) -> T:
        try:
            response = self._http.request(call.method, call.path, json=call.json, params=call.params,
                                          headers=call.headers)
        except httpx.TransportError as exc:
            raise PlatformUnreachable(self.base_url, self.base_url + call.path, exc) from exc
        return _read(call, response, self.base_url)

    def get_integrations(self) -> AllIntegrationsResponse:
        return self._send(_Calls.get_integrations())

    def get_rest_integrations(self) -> list[RestIntegrationResponse]:
        return self._send(_Calls.get_rest())

    def put_rest_integration(self, url: str, capabilities: Iterable[CapabilitySpec], *,
                             username: str, password: str) -> list[RestIntegrationResponse]:
        return self._send(_Calls.put_rest(url, capabilities, username, password))

    def get_ws_integrations(self) -> list[WsIntegrationResponse]:
        return self._send(_Calls.get_ws())

    def put_ws_integration(
        self, capabilities: Iterable[CapabilitySpec]
    ) -> list[WsIntegrationResponse]:
        return self._send(_Calls.put_ws(capabilities))

    def get_dojo_integrations(self) -> list[DojoManagedIntegrationResponse]:
        return self._send(_Calls.get_dojo())

    def send_event(self, event_type: PosEventType | str, entity_id: str) -> EventRequest:
        return self._send(_Calls.send_event(event_type, entity_id))

    def list_events(self, limit: int = 100) -> list[dict[str, Any]]:
        """Events the local platform received (a local extension; real Dojo has no such call)."""
        return self._send(_Calls.list_events(limit))

    def list_flows(self) -> list[FlowDescription]:
        return self._send(_Calls.list_flows())

    def run_flow(self, flow: str, params: Mapping[str, Any] | None = None) -> str:
        return self._send(_Calls.run_flow(flow, params))

    def get_flow_result(self, flow_id: str) -> FlowResult:
        return self._send(_Calls.get_flow_result(flow_id))

    def call_capability(self, capability: str, params: Mapping[str, Any] | None = None, *,
                        transport: str | None = None) -> FlowResult:
        """The local tester's single call (ours): one capability, its result as a one-step flow."""
        return self._send(_Calls.call_capability(capability, params, transport))


class AsyncClient(_Base, AsyncPaymentsMixin, AsyncFaultsMixin):
    """Async client (httpx.AsyncClient underneath); ``async with`` or ``await aclose()``."""

    def __init__(self, api_key: str, software_house_id: str, reseller_id: str | None = None, *,
                 base_url: str = DEFAULT_API_URL,
                 transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 30.0) -> None:
        super().__init__(api_key, software_house_id, reseller_id, base_url)
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=self._headers,
                                       transport=transport, timeout=timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, call: _Call[T]) -> T:
        try:
            response = await self._http.request(call.method, call.path, json=call.json,
                                                params=call.params, headers=call.headers)
        except httpx.TransportError as exc:
            raise PlatformUnreachable(self.base_url, self.base_url + call.path, exc) from exc
        return _read(call, response, self.base_url)

    async def get_integrations(self) -> AllIntegrationsResponse:
        return await self._send(_Calls.get_integrations())

    async def get_rest_integrations(self) -> list[RestIntegrationResponse]:
        return await self._send(_Calls.get_rest())

    async def put_rest_integration(self, url: str, capabilities: Iterable[CapabilitySpec], *,
                                   username: str, password: str) -> list[RestIntegrationResponse]:
        return await self._send(_Calls.put_rest(url, capabilities, username, password))

    async def get_ws_integrations(self) -> list[WsIntegrationResponse]:
        return await self._send(_Calls.get_ws())

    async def put_ws_integration(
        self, capabilities: Iterable[CapabilitySpec]
    ) -> list[WsIntegrationResponse]:
        return await self._send(_Calls.put_ws(capabilities))

    async def get_dojo_integrations(self) -> list[DojoManagedIntegrationResponse]:
        return await self._send(_Calls.get_dojo())

    async def send_event(self, event_type: PosEventType | str, entity_id: str) -> EventRequest:
        return await self._send(_Calls.send_event(event_type, entity_id))

    async def list_events(self, limit: int = 100) -> list[dict[str, Any]]:
        """Events the local platform received (a local extension; real Dojo has no such call)."""
        return await self._send(_Calls.list_events(limit))

    async def list_flows(self) -> list[FlowDescription]:
        return await self._send(_Calls.list_flows())

    async def run_flow(self, flow: str, params: Mapping[str, Any] | None = None) -> str:
        return await self._send(_Calls.run_flow(flow, params))

    async def get_flow_result(self, flow_id: str) -> FlowResult:
        return await self._send(_Calls.get_flow_result(flow_id))

    async def call_capability(self, capability: str, params: Mapping[str, Any] | None = None, *,
                              transport: str | None = None) -> FlowResult:
        """The local tester's single call (ours): one capability, its result as a one-step flow."""
        return await self._send(_Calls.call_capability(capability, params, transport))
