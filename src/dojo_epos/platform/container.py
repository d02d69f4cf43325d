"""The platform's parts, built once and wired together: :class:`Platform` and its settings.

Each service takes its collaborators in its constructor; this is the one place that decides which
ones. Nothing here knows HTTP: :mod:`dojo_epos.platform.app` puts routes on top of these parts::

    platform = Platform(PlatformSettings(db_url="sqlite:///platform.db"))
    await platform.invoke(scope, "GetOrderById", {"orderId": "o1"})
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel

from dojo_epos.contract.models import RequestHeaders
from dojo_epos.platform.accounts import Environment, KeyPolicy, Scope
from dojo_epos.platform.bus import Bus, make_bus
from dojo_epos.platform.events import Events, HandleEvents, deliver_payment_intent_event
from dojo_epos.platform.faultstore import FaultStore
from dojo_epos.platform.gateway import Gateway
from dojo_epos.platform.invoke import DEFAULT_MAX_REPLY_BYTES, Invoker
from dojo_epos.platform.outcome import InvocationResult
from dojo_epos.platform.payments import DAY, RETRY_DELAYS, Payments
from dojo_epos.platform.payments.recorder import PaymentRecorder
from dojo_epos.platform.registry import Registry
from dojo_epos.platform.routing import Router, new_worker_id
from dojo_epos.platform.store import Store
from dojo_epos.platform.tester.service import TesterService
from dojo_epos.settings import default_platform_db

__all__ = ["Platform", "PlatformSettings"]

#: Broadcast when a scope's registrations change, so other workers drop their cached copy.
REGISTRY_SUBJECT = "registry"
#: Broadcast when the shared fault book changes, so other workers reload their cached copy.
FAULTS_SUBJECT = "faults"


@dataclass
class PlatformSettings:
    """How the local platform runs; every field has a usable default."""

    db_url: str = field(default_factory=default_platform_db)
    """SQLite (``sqlite:///file``) or PostgreSQL (``postgresql://...``); the async driver is
    picked automatically."""
    allowed_keys: Sequence[str] = ()
    """When empty, any well-formed key is accepted as its own account; otherwise only these."""
    call_timeout: float = 10.0
    """Seconds the platform waits for an EPOS's answer, on either transport."""
    ping_interval: float | None = 20.0
    """Seconds between WebSocket keepalive pings (sent by uvicorn); None disables them."""
    ping_timeout: float | None = 20.0
    """Seconds without a pong before a socket is considered dead."""
    call_log_size: int = 500
    """How many recent calls the in-memory call log keeps (the database keeps them all)."""
    http_transport: httpx.AsyncBaseTransport | None = None
    """httpx transport for REST calls to EPOSes (tests: ``httpx.ASGITransport(app)``)."""
    flow_timeout: float = 300.0
    """Seconds a tester flow may run in all; past it the flow is TIMED_OUT."""
    bus_url: str | None = None
    """The bus between workers: None or ``memory`` (one process, the default) or
    ``nats://host:port`` (several workers or machines sharing ``db_url``)."""
    bus_namespace: str = "dojo-epos"
    """The prefix of every subject on NATS: platforms sharing one NATS server keep apart by it."""
    bus: Bus | None = None
    """A bus instance to use instead of ``bus_url`` (tests: one MemoryBus shared by two platforms)."""
    worker_id: str | None = None
    """This worker's name on the bus and the dashboard (default: host, pid and a random suffix)."""
    route_local_first: bool = True
    """Call a socket this worker holds directly; False sends even those through the bus (tests)."""
    registry_cache_ttl: float | None = None
    """Seconds a cached registration lives; default: forever on the memory bus, 5 s on NATS
    (other workers' changes arrive as bus notices; this bounds a notice lost while it was down)."""
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    """Largest REST reply body read from an EPOS; a larger one is a ReplyTooLarge failure (the
    WebSocket's frame limit is the same figure)."""
    settle_after: float = DAY
    """Seconds from a payment's capture to its settlement (after which it can only be refunded)."""
    webhook_retry_delays: Sequence[float] = RETRY_DELAYS
    """Seconds before each retry of a failed webhook delivery."""


class Platform:
    """The platform's parts: key policy, store, registry, gateway, invoker, events, payments, tester."""

    def __init__(self, settings: PlatformSettings | None = None) -> None:
        self.settings = settings or PlatformSettings()
        self.keys = KeyPolicy(self.settings.allowed_keys)
        self.store = Store(self.settings.db_url)
        self.bus = self.settings.bus or make_bus(self.settings.bus_url,
                                                 namespace=self.settings.bus_namespace)
        ttl = self.settings.registry_cache_ttl
        self.registry = Registry(self.store, cache_ttl=5.0 if ttl is None and self.bus.distributed
                                 else ttl)
        self.gateway = Gateway(call_timeout=self.settings.call_timeout)
        self.router = Router(self.gateway, self.bus,
                             worker_id=self.settings.worker_id or new_worker_id(),
                             local_first=self.settings.route_local_first)
        self.invoker = Invoker(self.registry, self.router, self.store,
                               call_timeout=self.settings.call_timeout,
                               max_reply_bytes=self.settings.max_reply_bytes,
                               http_transport=self.settings.http_transport,
                               ring_size=self.settings.call_log_size)
        # Faults on demand live in the database, shared by every worker (see .faults).
        self.faults = self.invoker.faults
        self.faults.backend = FaultStore(self.store)
        self.faults.notify = self._announce_faults
        self.events = Events(self.store)
        self.payments = Payments(self.store, self.invoker.calls, settle_after=self.settings.settle_after,
                                 retry_delays=self.settings.webhook_retry_delays,
                                 faults=self.faults)
        self.invoker.observers.append(PaymentRecorder(self.payments.intents))
        # Each change of an intent reaches the EPOS as HandleEvent too, if it registered it (§3.7).
        self.tester = TesterService(self.invoker, self.registry, self.store,
                                    flow_timeout=self.settings.flow_timeout, payments=self.payments,
                                    bus=self.bus)
        self.handle_events = HandleEvents(self.invoker)
        self.payments.add_channel(self.handle_events)
        self._registry_notices: Any = None
        self._fault_notices: Any = None

    async def start(self) -> None:
        """Create missing tables (also done lazily on first use) and join the bus."""
        await self.store.start()
        await self.payments.start()
        if self._registry_notices is not None:
            return
        await self.router.start()
        self.registry.on_change = self._announce_registration
        self._registry_notices = await self.bus.subscribe(REGISTRY_SUBJECT, self._registration_changed)
        self._fault_notices = await self.bus.subscribe(FAULTS_SUBJECT, self._faults_changed)
        self.bus.on_reconnect.append(self.faults.reload)  # a notice may have been lost meanwhile
        await self.faults.reload()

    async def _announce_faults(self) -> None:
        await self.bus.publish(FAULTS_SUBJECT, json.dumps({"worker": self.router.worker_id}).encode())

    async def _faults_changed(self, payload: bytes) -> None:
        try:
            if json.loads(payload).get("worker") == self.router.worker_id:
                return  # our own change: the cache has it already
        except (ValueError, AttributeError):
            pass
        await self.faults.reload()

    async def _announce_registration(self, scope: Scope) -> None:
        payload = {"environment": scope.environment.value, "key": scope.key_fingerprint,
                   "softwareHouseId": scope.software_house_id, "worker": self.router.worker_id}
        await self.bus.publish(REGISTRY_SUBJECT, json.dumps(payload).encode())

    async def _registration_changed(self, payload: bytes) -> None:
        try:
            data = json.loads(payload)
            scope = Scope(Environment(data["environment"]), str(data["key"]),
                          str(data["softwareHouseId"]))
        except (ValueError, KeyError, TypeError):
            self.registry.invalidate()
            return
        self.registry.invalidate(scope)

    def health(self) -> dict[str, Any]:
        """What ``/healthz`` reports: ``ok`` is False when the bus is down."""
        return {"ok": self.bus.connected, "bus": self.bus.name, "busConnected": self.bus.connected,
                "worker": self.router.worker_id}

    async def close(self) -> None:
        await self.tester.close()
        await self.payments.close()
        await self.handle_events.close()
        await self.gateway.close_all()
        await self.invoker.aclose()
        self.invoker.recorder.close()
        if self._registry_notices is not None:
            await self._registry_notices.stop()
            self._registry_notices = None
        if self._fault_notices is not None:
            await self._fault_notices.stop()
            self._fault_notices = None
        await self.faults.flush()
        await self.router.close()
        if self.settings.bus is None:  # a bus handed in belongs to whoever made it
            await self.bus.close()
        await self.store.close()

    async def invoke(
        self,
        scope: Scope,
        capability_name: str,
        params: dict[str, Any] | BaseModel | None = None,
        headers: RequestHeaders | None = None,
        **options: Any,
    ) -> InvocationResult:
        """Call a capability on the scope's EPOS (see :meth:`Invoker.invoke`)."""
        return await self.invoker.invoke(scope, capability_name, params, headers, **options)

    async def deliver_payment_intent_event(
        self, scope: Scope, event_type: str, data: Any, **options: Any
    ) -> InvocationResult:
        """Send HandleEvent to the scope's EPOS (see :func:`.events.deliver_payment_intent_event`)."""
        return await deliver_payment_intent_event(self.invoker, scope, event_type, data, **options)
