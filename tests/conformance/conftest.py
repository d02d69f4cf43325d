"""The conformance fixtures: one ``call`` fixture, run once per transport.

``call(capability, params, headers=None)`` goes through :class:`dojo_epos.testing.EposTestClient`
over REST or WebSocket, and checks every request and reply it put on the wire against Dojo's
published schemas (when the spec folder is present).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from pydantic import BaseModel

from dojo_epos.epos.handler import EposHandler
from dojo_epos.testing import EposTestClient
from tests.conformance.handlers import ConformanceHandler, OrdersOnlyHandler
from tests.conformance.wire import check_exchange
from tests.specs import specs_available

HANDLERS: dict[str, type[EposHandler]] = {
    "full": ConformanceHandler,
    "orders-only": OrdersOnlyHandler,
}


class Caller:
    """The ``call`` fixture's value: a callable bound to one transport and one handler."""

    def __init__(self, client: EposTestClient) -> None:
        self.client = client
        self.transport = client.transport
        self.handler = client.handler
        self.checked = 0

    async def __call__(self, capability: str, params: Mapping[str, Any] | None = None,
                       headers: Mapping[str, Any] | None = None) -> BaseModel:
        seen = len(self.client.exchanges)
        try:
            return await self.client.call(capability, params, headers)
        finally:
            if specs_available():
                for exchange in self.client.exchanges[seen:]:
                    check_exchange(exchange)
                    self.checked += 1


@pytest.fixture
def handler(request: pytest.FixtureRequest) -> EposHandler:
    """The handler under test; parametrize indirectly with a key of HANDLERS to change it."""
    return HANDLERS[getattr(request, "param", "full")]()


@pytest.fixture(params=["rest", "ws"])
async def call(request: pytest.FixtureRequest, handler: EposHandler) -> AsyncIterator[Caller]:
    async with EposTestClient(handler, transport=request.param) as client:
        yield Caller(client)
        assert client.unmatched_frames == []
