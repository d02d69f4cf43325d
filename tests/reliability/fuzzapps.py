"""ASGI wrappers the fuzzers drive: they open their backing state lazily in the fuzzer's own event
loop, count what reaches them, and check that every rejected request left the database unchanged.

schemathesis runs in-process apps on one event-loop thread of its own, so anything holding database
connections must be created there, on the first request, not at import.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.reliability.state import fingerprint

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


@dataclass
class Tally:
    """What one guarded app saw."""

    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    changed_by_rejection: list[str] = field(default_factory=list)


class GuardedApp:
    """Builds the real app on first use (``build`` returns it plus a read-connection factory),
    then serves it: answers lifespan itself, and fingerprints the database around each request so a
    4xx that changed anything is recorded."""

    def __init__(self, build: Callable[[], Awaitable[tuple[ASGIApp, Any, MetaData]]]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._connect: Any = None
        self._metadata: MetaData | None = None
        self._lock: asyncio.Lock | None = None
        self.tally = Tally()

    async def _ensure(self) -> ASGIApp:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._app is None:
                self._app, self._connect, self._metadata = await self._build()
        return self._app

    async def _fingerprint(self) -> str:
        assert self._metadata is not None
        async with self._connect() as conn:
            assert isinstance(conn, AsyncConnection)
            return await fingerprint(conn, self._metadata)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        app = await self._ensure()
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        self.tally.requests += 1
        before = await self._fingerprint()
        status: list[int] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await app(scope, receive, capture)
        where = f"{scope['method']} {scope['path']}"
        code = status[0] if status else 0
        if code >= 500 or not status:
            self.tally.server_errors.append(f"{where} -> {code}")
        if code >= 400 and await self._fingerprint() != before:
            self.tally.changed_by_rejection.append(f"{where} -> {code}")
