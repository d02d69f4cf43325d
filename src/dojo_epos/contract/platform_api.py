"""The platform API's operations: what each route takes and answers, and an example call of each.

One row per method and path the local platform serves (beside the dashboard and the WebSocket at
``/epos``). The OpenAPI document the platform serves at ``/openapi.json``
(:mod:`dojo_epos.platform.http.openapi`) is built from the routes actually served, each described
by its row here; the Postman collection (:mod:`dojo_epos.export`) is built from that document and
the rows' :class:`Example`. A served route without a row is still documented (from its path and
its endpoint's docstring), and a test fails until it gets one.

Rows marked ``ours`` go beyond Dojo's published documents (the local ``GET /epos/events``, single
calls, ``/healthz``, ``/openapi.json``); the others follow ``dojo-api-epos-subset``,
``dojo-api-payments-subset`` and ``epos-tester-tool``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from dojo_epos.contract import payments as p
from dojo_epos.contract import platform_models as pm
from dojo_epos.contract import tester_models as tm
from dojo_epos.contract.capabilities import CATALOGUE
from dojo_epos.contract.wire import WireModel

__all__ = [
    "PLATFORM_API",
    "ApiErrorBody",
    "Cleared",
    "Example",
    "FaultList",
    "FaultRequest",
    "Health",
    "Operation",
    "Param",
    "RecentEvents",
    "StoredFault",
    "operation_for",
]

ErrorShape = Literal["api", "problem"]


class ApiErrorBody(BaseModel):
    """Every refusal of the platform API beside the payments routes."""

    error: str
    """A short code, e.g. ``invalid_api_key``, ``not_found``, ``invalid_request``."""
    message: str
    """What went wrong, for a person."""


class Health(BaseModel):
    """``GET /healthz``: up, and on which bus."""

    status: Literal["ok", "unavailable"]
    service: str
    version: str
    bus: str
    worker: str
    message: str | None = None


class RecentEvents(BaseModel):
    """``GET /epos/events``: the events this account sent, newest last."""

    events: list[dict[str, Any]]


class FaultRequest(WireModel):
    """``POST /epos-tester-tool/faults``: what to break for this account's calls.

    ``kind`` is one of delay, drop-before-send, drop-after-send, never-answer, deliver-twice,
    resend-new-id, close, refuse-handshake, ignore-pings; the other fields as the kind needs."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    capability: str | None = None
    """Only calls of this capability (default: every call)."""
    delay: float | None = None
    """Seconds to hold a request (``delay``)."""
    delay_max: float | None = None
    """A random delay up to this many seconds instead."""
    close_code: int | None = None
    """For ``close``: 1001, 1012 or 4000."""
    status: int | None = None
    """For ``refuse-handshake``: 401 or 503."""
    times: int | None = None
    """How many calls it acts on (default: until cleared)."""


class StoredFault(FaultRequest):
    """A fault as the platform keeps it: its id, the calls it has left, its description (the
    text the call log shows)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    description: str


class FaultList(BaseModel):
    """``GET /epos-tester-tool/faults``: this account's faults, in the order set."""

    faults: list[StoredFault]


class Cleared(BaseModel):
    """How many faults a ``DELETE`` cleared."""

    cleared: int


@dataclass(frozen=True, slots=True)
class Param:
    """A query or header parameter."""

    name: str
    description: str
    required: bool = False
    type: str = "string"


@dataclass(frozen=True, slots=True)
class Example:
    """One call of an operation that succeeds against a fresh local platform and the reference
    EPOS, in the order of :data:`PLATFORM_API`. Values may name ``{{variables}}``: the collection
    variables, or those an earlier example captured."""

    expect: int
    """The status the call answers."""
    name: str = ""
    """The request's name when it is not the operation's summary."""
    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    capture: Mapping[str, str] = field(default_factory=dict)
    """Variable -> where in the JSON answer its value is (dotted, ``""`` for the whole body)."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One method and path of the platform API."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    result: Any
    """The answer's type (a model, ``list[Model]``, ``str``, ...); None for an empty answer."""
    status: int = 200
    body: type[BaseModel] | None = None
    errors: ErrorShape = "api"
    auth: bool = True
    query: tuple[Param, ...] = ()
    headers: tuple[Param, ...] = ()
    ours: bool = False
    description: str = ""
    examples: tuple[Example, ...] = ()


_VERSION = Param("version", "The Dojo API version, e.g. 2026-02-27.", required=True)
_IDEMPOTENCY = Param("IdempotencyKey", "At most 100 characters; a retry with the same key is "
                     "answered as the first call was.")
_V = {"version": "{{apiVersion}}"}
_ALL_CAPABILITIES = [{"name": name, "version": "v1"}
                     for name in dict.fromkeys(c.name for c in CATALOGUE)]

# The tester's answers: the flow id alone (a JSON string), a FlowResult.
_REGISTRY, _EVENTS, _TESTER, _PAY, _HOOKS, _META, _FAULTS = (
    "Registry", "Events", "Tester", "Payment intents", "Webhooks", "Platform", "Faults")
_FAULTS_PATH = "/epos-tester-tool/faults"

PLATFORM_API: tuple[Operation, ...] = (
    Operation("GET", "/healthz", "get-healthz", "Health", _META, Health, auth=False, ours=True,
              description="Up or not, and on which bus; no API key needed. 503 when the message "
                          "bus is down.",
              examples=(Example(200),)),
    Operation("GET", "/openapi.json", "get-openapi", "This document", _META, dict[str, Any],
              auth=False, ours=True, examples=(Example(200),)),
    # -- registry ---------------------------------------------------------------------------------
    Operation("PUT", "/epos/integrations/rest", "put-rest-integration", "Register a REST EPOS",
              _REGISTRY, list[pm.RestIntegrationResponse], body=pm.RestIntegrationRequest,
              description="Replaces this account's REST registration (URL, basic auth, "
                          "capabilities). The password is never answered.",
              examples=(Example(200, body={
                  "url": "{{eposUrl}}", "capabilities": _ALL_CAPABILITIES,
                  "auth": {"authType": "basic", "basic": {"username": "{{eposUsername}}",
                                                          "password": "{{eposPassword}}"}}}),)),
    Operation("GET", "/epos/integrations/rest", "get-rest-integrations", "REST registrations",
              _REGISTRY, list[pm.RestIntegrationResponse], examples=(Example(200),)),
    Operation("PUT", "/epos/integrations/ws", "put-ws-integration",
              "Register a WebSocket EPOS", _REGISTRY, list[pm.WsIntegrationResponse],
              body=pm.WsIntegrationRequest,
              examples=(Example(200, body={"capabilities": _ALL_CAPABILITIES}),)),
    Operation("GET", "/epos/integrations/ws", "get-ws-integrations", "WebSocket registrations",
              _REGISTRY, list[pm.WsIntegrationResponse], examples=(Example(200),)),
    Operation("GET", "/epos/integrations/dojo", "get-dojo-integrations",
              "Dojo-managed registrations", _REGISTRY, list[pm.DojoManagedIntegrationResponse],
              examples=(Example(200),)),
    Operation("GET", "/epos/integrations", "get-integrations", "All registrations", _REGISTRY,
              pm.AllIntegrationsResponse, examples=(Example(200),)),
    # -- events -----------------------------------------------------------------------------------
    Operation("POST", "/epos/events", "post-event", "Report a change", _EVENTS, pm.EventRequest,
              body=pm.EventRequest, description="An order, party or reservation changed in the "
                                                "EPOS; answered with the event as stored.",
              examples=(Example(200, body={"eventType": "OrderUpdated",
                                           "event": {"orderId": "ord_postman_1"}}),)),
    Operation("GET", "/epos/events", "list-events", "Events sent", _EVENTS, RecentEvents,
              ours=True, query=(Param("limit", "At most this many (default 100).",
                                      type="integer"),),
              examples=(Example(200, query={"limit": "10"}),)),
    # -- tester -----------------------------------------------------------------------------------
    Operation("GET", "/epos-tester-tool/flows", "list-flows", "Flows", _TESTER,
              list[tm.FlowDescription], description="Every flow the tester runs, with its "
              "parameters (an array: spec defect #39).", examples=(Example(200),)),
    Operation("POST", "/epos-tester-tool/calls", "single-call", "Call one capability", _TESTER,
              tm.FlowResult, body=tm.SingleCallRequest, ours=True,
              description="One capability called once on the registered EPOS, answered as a "
                          "finished FlowResult with one step.",
              examples=(Example(200, body={"capability": "SearchOrders", "params": {},
                                           "transport": "rest"}),)),
    Operation("POST", "/epos-tester-tool/flows", "run-flow", "Start a flow", _TESTER, str,
              body=tm.RunFlowRequest, description="Answers the new flow's id (a JSON string).",
              examples=(Example(200, body={"flow": "Search Orders",
                                           "params": {"transport": "rest"}},
                                capture={"flowId": ""}),)),
    Operation("GET", "/epos-tester-tool/flows/{flowId}", "get-flow", "A flow's result", _TESTER,
              tm.FlowResult, examples=(Example(200, path={"flowId": "{{flowId}}"}),)),
    # -- payment intents --------------------------------------------------------------------------
    Operation("POST", "/payment-intents/search", "search-payment-intents",
              "Search payment intents", _PAY, p.PagedPaymentIntent,
              body=p.SearchPaymentIntentRequest, errors="problem", headers=(_VERSION,),
              examples=(Example(200, headers=_V, body={"cursor": {"limit": 10}}),)),
    Operation("GET", "/payment-intents/refunds/{refundId}", "get-refund", "A refund", _PAY,
              p.Refund, errors="problem", headers=(_VERSION,),
              examples=(Example(404, name="A refund (unknown: 404)", headers=_V,
                                path={"refundId": "rf_postman_unknown"}),)),
    Operation("GET", "/payment-intents/{paymentIntentId}", "get-payment-intent",
              "A payment intent", _PAY, p.PaymentIntent, errors="problem", headers=(_VERSION,),
              query=(Param("returnCanceled", "true to find a canceled intent too.",
                           type="boolean"),),
              examples=(Example(404, name="A payment intent (unknown: 404)", headers=_V,
                                path={"paymentIntentId": "pi_postman_unknown"}),)),
    Operation("POST", "/payment-intents/{paymentIntentId}/refunds", "refund-payment-intent",
              "Refund", _PAY, p.Refund, body=p.CreateRefundRequest, errors="problem",
              headers=(_VERSION, Param("IdempotencyKey", "Required; at most 100 characters.",
                                       required=True)),
              examples=(Example(404, name="Refund (unknown intent: 404)",
                                headers={**_V, "IdempotencyKey": "postman-refund-1"},
                                path={"paymentIntentId": "pi_postman_unknown"},
                                body={"amount": 100, "refundReason": "postman"}),)),
    Operation("POST", "/payment-intents/{paymentIntentId}/reversal", "reverse-payment-intent",
              "Reverse", _PAY, p.Reversal, errors="problem", headers=(_VERSION, _IDEMPOTENCY),
              examples=(Example(404, name="Reverse (unknown intent: 404)", headers=_V,
                                path={"paymentIntentId": "pi_postman_unknown"}),)),
    Operation("POST", "/payment-intents/{paymentIntentId}/captures", "capture-payment-intent",
              "Capture", _PAY, p.Capture, body=p.CreateCaptureRequest, errors="problem",
              headers=(_VERSION, _IDEMPOTENCY),
              examples=(Example(404, name="Capture (unknown intent: 404)", headers=_V,
                                path={"paymentIntentId": "pi_postman_unknown"},
                                body={"amount": 100}),)),
    # -- webhooks ---------------------------------------------------------------------------------
    Operation("GET", "/webhooks/events", "webhook-events", "Event types", _HOOKS,
              list[p.WebhookEvents], errors="problem", headers=(_VERSION,),
              examples=(Example(200, headers=_V),)),
    Operation("POST", "/webhooks", "subscribe", "Subscribe", _HOOKS, p.Subscription,
              body=p.SubscriptionRequest, errors="problem", headers=(_VERSION,),
              description="Locally, plain http:// to a loopback host is accepted too (Dojo "
                          "takes https:// only).",
              examples=(Example(200, headers=_V, body={
                  "events": ["payment_intent.status_updated"],
                  "url": "https://127.0.0.1:9/postman-webhooks"},
                  capture={"subscriptionId": "id"}),)),
    Operation("GET", "/webhooks", "list-subscriptions", "Subscriptions", _HOOKS,
              list[p.Subscription], errors="problem", headers=(_VERSION,),
              examples=(Example(200, headers=_V),)),
    Operation("PATCH", "/webhooks/{subscriptionId}", "update-subscription", "Change a "
              "subscription", _HOOKS, p.Subscription, body=p.SubscriptionUpdateRequest,
              errors="problem", headers=(_VERSION,),
              examples=(Example(200, headers=_V, path={"subscriptionId": "{{subscriptionId}}"},
                                body={"events": ["payment_intent.created",
                                                 "payment_intent.status_updated"]}),)),
    Operation("GET", "/webhooks/{subscriptionId}/secrets", "list-secrets", "Signing secrets",
              _HOOKS, p.SecretsResponse, errors="problem", headers=(_VERSION,),
              examples=(Example(200, headers=_V, path={"subscriptionId": "{{subscriptionId}}"}),)),
    Operation("POST", "/webhooks/{subscriptionId}/secrets", "new-secret", "A new signing secret",
              _HOOKS, p.SecretsResponse, errors="problem", headers=(_VERSION,),
              examples=(Example(200, headers=_V, path={"subscriptionId": "{{subscriptionId}}"},
                                capture={"secretId": "secrets.-1.id"}),)),
    Operation("PUT", "/webhooks/{subscriptionId}/secrets/{secretId}/activate", "activate-secret",
              "Activate a secret", _HOOKS, None, status=204, errors="problem",
              headers=(_VERSION,),
              examples=(Example(204, headers=_V, path={"subscriptionId": "{{subscriptionId}}",
                                                       "secretId": "{{secretId}}"}),)),
    Operation("DELETE", "/webhooks/{subscriptionId}/secrets/{secretId}", "remove-secret",
              "Remove a secret", _HOOKS, None, status=204, errors="problem", headers=(_VERSION,),
              examples=(Example(404, name="Remove a secret (unknown: 404)", headers=_V,
                                path={"subscriptionId": "{{subscriptionId}}",
                                      "secretId": "sec_postman_unknown"}),)),
    Operation("DELETE", "/webhooks/{subscriptionId}", "unsubscribe", "Unsubscribe", _HOOKS, None,
              status=204, errors="problem", headers=(_VERSION,),
              examples=(Example(204, headers=_V, path={"subscriptionId": "{{subscriptionId}}"}),)),
    # -- faults on demand (last: a fault set acts on this account's later calls) ------------------
    Operation("POST", _FAULTS_PATH, "add-fault", "Set a fault", _FAULTS, StoredFault, status=201,
              body=FaultRequest, ours=True,
              description="Misbehave on demand for this account's calls to its EPOS; 400 "
                          "invalid_fault names the field that cannot be set.",
              examples=(Example(201, body={"kind": "delay", "capability": "GetOrderById",
                                           "delay": 0.1, "times": 1},
                                capture={"faultId": "id"}),)),
    Operation("GET", _FAULTS_PATH, "list-faults", "Faults", _FAULTS, FaultList, ours=True,
              examples=(Example(200),)),
    Operation("DELETE", f"{_FAULTS_PATH}/{{faultId}}", "clear-fault", "Clear a fault", _FAULTS,
              Cleared, ours=True, examples=(Example(200, path={"faultId": "{{faultId}}"}),)),
    Operation("DELETE", _FAULTS_PATH, "clear-faults", "Clear every fault", _FAULTS, Cleared,
              ours=True, examples=(Example(200),)),
)

_BY_ROUTE = MappingProxyType({(o.method, o.path): o for o in PLATFORM_API})


def operation_for(method: str, path: str) -> Operation | None:
    """The row describing ``method path`` (a route template, e.g. ``/webhooks/{subscriptionId}``)."""
    return _BY_ROUTE.get((method.upper(), path))

