"""What a connector tells its user: typed state events, and why an attempt failed.

:class:`ConnectionEvent` is what a library user gets (a callback, or ``async for`` over
:meth:`Connector.events <dojo_epos.epos.connector.Connector.events>`) to show "Dojo: connected /
refused / reconnecting" on the EPOS's own screen, as the go-live checklist asks.
:func:`classify_failure` turns an exception from a connection attempt into a :class:`Problem` and a
sentence for a person: a wrong URL or path, a refused key, a platform that is not there (naming the
URL), a TLS failure. No I/O here.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from dojo_epos.contract.close_codes import CLOSE_REPLACED
from dojo_epos.hints import unreachable_hint, wrong_path_hint

__all__ = [
    "AUTH_REFUSED",
    "CLOSE_REPLACED",
    "ConnectionEvent",
    "ConnectorGaveUp",
    "ConnectorState",
    "EventStream",
    "Problem",
    "classify_failure",
]

#: What the connector reports when the handshake is refused for the key (HTTP 401 or 403).
AUTH_REFUSED = "authorization refused by the platform (HTTP {status}): check the API key"


class ConnectorState(StrEnum):
    """Where the connector is. Every change, and every failed attempt, is one event."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"
    """An attempt failed: :attr:`ConnectionEvent.problem` says why."""
    DISCONNECTED = "disconnected"
    BACKING_OFF = "backing off"
    """Waiting :attr:`ConnectionEvent.retry_in` seconds before the next attempt."""
    STOPPED = "stopped"


class Problem(StrEnum):
    """Why a connection attempt failed or a socket ended."""

    WRONG_URL = "wrong URL"
    """Something answered, but not a WebSocket endpoint at that path (HTTP 404, a bare 403, not WS)."""
    KEY_REFUSED = "key refused"
    """The platform refused the API key or the handshake headers (HTTP 401, 403 with a reason, 400)."""
    UNREACHABLE = "unreachable"
    """Nothing answered at the URL: connection refused, unknown host, timed out."""
    TLS = "TLS error"
    """The TLS handshake failed (certificate, or TLS spoken to a plain server)."""
    PLATFORM_ERROR = "platform error"
    """The platform answered the handshake with another status (429, 5xx): retried."""
    DROPPED = "dropped"
    """An open socket closed or failed."""
    REPLACED = "replaced"
    """The platform closed the socket with 4000: a newer socket for the same scope replaced it."""

    @property
    def is_refusal(self) -> bool:
        """A problem that retrying will not fix: counted against ``max_refusals``."""
        return self in (Problem.WRONG_URL, Problem.KEY_REFUSED, Problem.TLS)


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """One change of a connector's state."""

    state: ConnectorState
    url: str
    detail: str | None = None
    """A sentence for a person (never contains the key)."""
    problem: Problem | None = None
    retry_in: float | None = None
    """For BACKING_OFF: seconds until the next attempt."""
    attempt: int = 0
    """Failed attempts in a row so far (0 once a connection has stayed up)."""
    at: float = field(default_factory=time.time)

    def __str__(self) -> str:
        if self.state is ConnectorState.CONNECTING:
            return f"connecting to {self.url}"
        if self.state is ConnectorState.CONNECTED:
            return f"connected to {self.url}"
        if self.state is ConnectorState.BACKING_OFF:
            return f"reconnecting in {self.retry_in or 0:.1f} s"
        if self.detail:
            return f"{self.state.value}: {self.detail}"
        return self.state.value


class ConnectorGaveUp(Exception):
    """The connector stopped by itself: a refusal repeated ``max_refusals`` times, or replaced."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


def classify_failure(exc: BaseException, url: str) -> tuple[Problem, str]:
    """The problem behind a failed connection attempt, and what to tell a person about it."""
    if isinstance(exc, InvalidStatus):
        return _classify_status(exc, url)
    if isinstance(exc, InvalidURI):
        return Problem.WRONG_URL, f"{url} is not a WebSocket URL ({exc.msg}): {wrong_path_hint(url)}"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Problem.TLS, (f"TLS handshake with {url} failed: {exc}; check the certificate, "
                             "or use ws:// for a plain (local) server")
    if isinstance(exc, InvalidHandshake):
        return Problem.WRONG_URL, (f"{url} answered, but not as a WebSocket endpoint ({exc}): "
                                   f"{wrong_path_hint(url)}")
    if isinstance(exc, OSError | TimeoutError):
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return Problem.UNREACHABLE, f"cannot reach {url} ({reason}); {unreachable_hint(url)}"
    return Problem.UNREACHABLE, f"cannot connect to {url}: {type(exc).__name__}: {exc}"


def _classify_status(exc: InvalidStatus, url: str) -> tuple[Problem, str]:
    status = exc.response.status_code
    reason = _platform_reason(exc.response.body)
    if status == 404 or (status == 403 and reason is None and not _is_epos_path(url)):
        # Starlette (and so the local platform) refuses an unknown WebSocket path with a bare 403.
        return Problem.WRONG_URL, (f"no WebSocket endpoint at {url} (HTTP {status}): "
                                   f"{wrong_path_hint(url)}")
    if status in (401, 403):
        message = AUTH_REFUSED.format(status=status)
        return Problem.KEY_REFUSED, f"{message} ({reason})" if reason else message
    if status == 400:
        return Problem.KEY_REFUSED, (f"handshake refused by the platform (HTTP 400)"
                                     f"{': ' + reason if reason else ''}; check software-house-id")
    return Problem.PLATFORM_ERROR, (f"handshake refused by the platform (HTTP {status})"
                                    f"{': ' + reason if reason else ''}")


def _is_epos_path(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith("/epos")


def _platform_reason(body: bytes | bytearray | None) -> str | None:
    """The ``message`` of a platform's JSON denial body, if it sent one."""
    if not body:
        return None
    try:
        data = json.loads(bytes(body))
    except ValueError:
        return None
    message = data.get("message") if isinstance(data, dict) else None
    return message if isinstance(message, str) and message else None


class EventStream:
    """Fans events out to subscribers; a subscription starts at once and ends after STOPPED."""

    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[ConnectionEvent]] = []

    def publish(self, event: ConnectionEvent) -> None:
        for queue in self._queues:
            queue.put_nowait(event)

    def subscribe(self) -> AsyncIterator[ConnectionEvent]:
        """Every event from now on (none is missed between this call and the first ``await``)."""
        queue: asyncio.Queue[ConnectionEvent] = asyncio.Queue()
        self._queues.append(queue)
        return _Subscription(self._queues, queue)


class _Subscription:
    def __init__(self, queues: list[asyncio.Queue[ConnectionEvent]],
                 queue: asyncio.Queue[ConnectionEvent]) -> None:
        self._queues, self._queue, self._ended = queues, queue, False

    def __aiter__(self) -> _Subscription:
        return self

    async def __anext__(self) -> ConnectionEvent:
        if self._ended:
            raise StopAsyncIteration
        event = await self._queue.get()
        if event.state is ConnectorState.STOPPED:
            self._ended = True
            if self._queue in self._queues:
                self._queues.remove(self._queue)
        return event
