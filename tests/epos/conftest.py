"""Fixtures for the EPOS-side transport tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dojo_epos.testing import EposTestClient
from tests.conformance.handlers import ConformanceHandler


@pytest.fixture
def conformance_handler() -> ConformanceHandler:
    return ConformanceHandler()


@pytest.fixture
async def rest_client(conformance_handler: ConformanceHandler) -> AsyncIterator[EposTestClient]:
    async with EposTestClient(conformance_handler, transport="rest") as client:
        yield client
