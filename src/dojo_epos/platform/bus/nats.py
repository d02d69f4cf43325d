"""The NATS bus: request-reply between platform workers on one or several machines (nats-py).

Requests use NATS's new-style request-reply (one wildcard inbox per connection), so a subject with
no subscriber gets NATS's immediate "no responders" status instead of a time-out. Each responder
message is handled in its own task: a slow EPOS call must not hold the calls behind it (nats-py runs
one subscription's callbacks one after another).

While the connection is down nats-py reconnects forever in the background and re-subscribes on
return; meanwhile :attr:`NatsBus.connected` is False and requests and publishes fail at once with
:class:`~.base.BusUnavailable` (nats-py would otherwise buffer them until the server returns).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription

from dojo_epos.platform.bus.base import (
    Broadcast,
    Bus,
    BusTimeout,
    BusUnavailable,
    NoResponders,
    Responder,
    Subscription,
)

__all__ = ["NatsBus"]

log = logging.getLogger("dojo_epos.platform.bus")


class _NatsSubscription(Subscription):
    def __init__(self, bus: NatsBus, sub: NatsSubscription) -> None:
        self._bus, self._sub, self._stopped = bus, sub, False

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            await self._sub.unsubscribe()
        except Exception:  # the connection is gone: the server dropped the subscription with it
            log.debug("unsubscribe after the connection went away")


class NatsBus(Bus):
    """A NATS connection shared by the worker's services."""

    def __init__(self, url: str, *, name: str = "dojo-epos platform", namespace: str = "dojo-epos",
                 connect_timeout: float = 2.0, reconnect_wait: float = 0.5) -> None:
        super().__init__()
        self.url = url
        #: Every subject is put under it: platforms sharing one NATS server keep apart by it.
        self.namespace = namespace
        self.name = url
        self._client_name = name
        self._connect_timeout = connect_timeout
        self._reconnect_wait = reconnect_wait
        self._nc: Client | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def distributed(self) -> bool:
        return True

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def start(self) -> None:
        if self._nc is not None:
            return
        try:
            self._nc = await nats.connect(
                self.url, name=self._client_name, connect_timeout=int(max(1, self._connect_timeout)),
                allow_reconnect=True, max_reconnect_attempts=-1,
                reconnect_time_wait=self._reconnect_wait,  # type: ignore[arg-type,unused-ignore]
                ping_interval=5, max_outstanding_pings=2,
                disconnected_cb=self._disconnected, reconnected_cb=self._reconnected,
                error_cb=self._error)
        except Exception as exc:
            raise BusUnavailable(f"cannot connect to NATS at {self.url}: {exc or type(exc).__name__}"
                                 ) from None

    async def _disconnected(self) -> None:
        if self._nc is None:  # closing on purpose
            return
        log.warning("lost the connection to NATS at %s; reconnecting", self.url)

    async def _reconnected(self) -> None:
        log.warning("reconnected to NATS at %s", self.url)
        await self._reconnected_hooks()

    async def _error(self, exc: Exception) -> None:
        log.info("NATS: %s: %s", type(exc).__name__, exc)

    async def close(self) -> None:
        nc, self._nc = self._nc, None
        for task in list(self._tasks):
            task.cancel()
        if nc is not None and not nc.is_closed:
            try:
                await asyncio.wait_for(nc.close(), 2)
            except Exception:
                log.debug("closing the NATS connection failed", exc_info=True)

    def _s(self, subject: str) -> str:
        return f"{self.namespace}.{subject}"

    def _client(self) -> Client:
        nc = self._nc
        if nc is None or not nc.is_connected:
            raise BusUnavailable(f"the message bus (NATS at {self.url}) is unavailable")
        return nc

    async def serve(self, subject: str, responder: Responder) -> Subscription:
        async def on_request(msg: Msg) -> None:
            task = asyncio.create_task(self._answer(msg, responder))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return await self._subscribe(subject, on_request)

    async def _answer(self, msg: Msg, responder: Responder) -> None:
        try:
            reply = await responder(msg.data)
        except Exception:
            log.exception("responder on %s failed", msg.subject)
            return
        if msg.reply:
            try:
                await msg.respond(reply)
            except Exception:  # the bus went down meanwhile: the requester sees a time-out
                log.warning("could not send the reply on %s", msg.subject)

    async def subscribe(self, subject: str, handler: Broadcast) -> Subscription:
        async def on_message(msg: Msg) -> None:
            try:
                await handler(msg.data)
            except Exception:
                log.exception("broadcast handler on %s failed", msg.subject)

        return await self._subscribe(subject, on_message)

    async def _subscribe(self, subject: str, callback: Any) -> Subscription:
        nc = self._client()
        sub = await nc.subscribe(self._s(subject), cb=callback)
        # Make sure the server has it before the caller announces it (a request sent right after
        # would otherwise find no responder).
        try:
            await nc.flush(timeout=2)
        except Exception:
            log.debug("flush after subscribe failed", exc_info=True)
        return _NatsSubscription(self, sub)

    async def request(self, subject: str, payload: bytes, timeout: float) -> bytes:
        nc = self._client()
        try:
            msg = await nc.request(self._s(subject), payload, timeout=timeout)
        except nats.errors.NoRespondersError:
            raise NoResponders(subject) from None
        except nats.errors.TimeoutError:
            if not self.connected:
                raise BusUnavailable(f"the message bus (NATS at {self.url}) went away") from None
            raise BusTimeout(f"no reply on {subject} within {timeout:g} s") from None
        except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError,
                nats.errors.OutboundBufferLimitError) as exc:
            raise BusUnavailable(f"the message bus (NATS at {self.url}) is unavailable: "
                                 f"{type(exc).__name__}") from None
        return msg.data

    async def publish(self, subject: str, payload: bytes) -> None:
        nc = self._client()
        try:
            await nc.publish(self._s(subject), payload)
        except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError,
                nats.errors.OutboundBufferLimitError) as exc:
            raise BusUnavailable(f"the message bus (NATS at {self.url}) is unavailable: "
                                 f"{type(exc).__name__}") from None

    async def gather(self, subject: str, payload: bytes, window: float) -> list[bytes]:
        nc = self._client()
        replies: list[bytes] = []
        inbox = nc.new_inbox()

        async def collect(msg: Msg) -> None:
            if not (msg.headers and msg.headers.get("Status") == "503"):
                replies.append(msg.data)

        sub = await nc.subscribe(inbox, cb=collect)
        try:
            await nc.publish(self._s(subject), payload, reply=inbox)
            await nc.flush(timeout=2)
            await asyncio.sleep(window)
        finally:
            await sub.unsubscribe()
        return replies
