"""The message bus between platform workers: one small interface, two implementations.

A worker holding an EPOS socket *serves* the scope's subject; any worker *requests* on it to reach
that socket. Besides request-reply the platform needs fire-and-forget broadcasts (a newer socket
claims a scope, a registration changed) and a scatter-gather (every worker's live sockets, for the
dashboard). Payloads are bytes; what they mean is the caller's business (see :mod:`..routing`).

* :class:`~.memory.MemoryBus`: in-process, the embedded default (one process, no broker);
* :class:`~.nats.NatsBus`: NATS request-reply, for several workers and machines.

Failures are typed: :class:`NoResponders` (nobody serves the subject: the EPOS is not connected
anywhere), :class:`BusTimeout` (a responder was there but did not answer in time), and
:class:`BusUnavailable` (the bus itself is down: fail fast, never queue).
"""

from __future__ import annotations

import abc
import hashlib
import logging
from collections.abc import Awaitable, Callable

__all__ = [
    "Broadcast",
    "Bus",
    "BusError",
    "BusTimeout",
    "BusUnavailable",
    "NoResponders",
    "Responder",
    "Subscription",
    "subject_token",
]

#: Serves one request: gets the payload, returns the reply payload.
Responder = Callable[[bytes], Awaitable[bytes]]
#: Receives one broadcast payload.
Broadcast = Callable[[bytes], Awaitable[None]]


log = logging.getLogger("dojo_epos.platform.bus")


class BusError(Exception):
    """A request could not be carried over the bus."""


class NoResponders(BusError):
    """Nobody serves the subject (for a scope: no worker holds its socket)."""


class BusTimeout(BusError):
    """A responder took the request but sent no reply in time (it may have died)."""


class BusUnavailable(BusError):
    """The bus is down or closed; requests fail at once instead of waiting for it."""


def subject_token(text: str) -> str:
    """A subject-safe token for any text (scopes hold ``/`` and arbitrary software house ids)."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Subscription(abc.ABC):
    """A live subscription; :meth:`stop` ends it (idempotent)."""

    @abc.abstractmethod
    async def stop(self) -> None: ...


class Bus(abc.ABC):
    """What the platform needs of a message bus."""

    #: A short name for health reports and errors (``memory``, ``nats://127.0.0.1:4222``).
    name: str = "bus"

    def __init__(self) -> None:
        #: Called after the bus comes back from an outage (subscriptions made then are kept by
        #: the bus itself; the ones that failed during it can be made now).
        self.on_reconnect: list[Callable[[], Awaitable[None]]] = []

    async def _reconnected_hooks(self) -> None:
        for hook in list(self.on_reconnect):
            try:
                await hook()
            except Exception:
                log.exception("a bus reconnect hook failed")

    async def start(self) -> None:
        """Connect (a no-op for the in-process bus)."""
        return None

    async def close(self) -> None:
        """Drop every subscription and disconnect."""
        return None

    @property
    @abc.abstractmethod
    def connected(self) -> bool:
        """Whether requests can be carried now."""

    @property
    def distributed(self) -> bool:
        """Whether other processes may be on this bus (then local caches must be invalidated)."""
        return False

    @abc.abstractmethod
    async def serve(self, subject: str, responder: Responder) -> Subscription:
        """Answer requests on ``subject`` with ``responder`` until the subscription is stopped."""

    @abc.abstractmethod
    async def request(self, subject: str, payload: bytes, timeout: float) -> bytes:
        """Send a request to one responder of ``subject`` and return its reply.

        Raises :class:`NoResponders`, :class:`BusTimeout` or :class:`BusUnavailable`.
        """

    @abc.abstractmethod
    async def subscribe(self, subject: str, handler: Broadcast) -> Subscription:
        """Receive every broadcast published on ``subject``."""

    @abc.abstractmethod
    async def publish(self, subject: str, payload: bytes) -> None:
        """Broadcast ``payload`` to every subscriber of ``subject`` (BusUnavailable when down)."""

    @abc.abstractmethod
    async def gather(self, subject: str, payload: bytes, window: float) -> list[bytes]:
        """Ask every responder of ``subject`` and return the replies that came within ``window``
        seconds (an empty list when nobody serves it)."""
