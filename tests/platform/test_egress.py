"""The platform's address guard (issue 18 item 3): host literals read as the resolver reads them,
and the address actually connected to checked at call time, DNS names included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dojo_epos.contract import models as m
from dojo_epos.platform import Platform, PlatformSettings
from dojo_epos.platform.accounts import Caller
from dojo_epos.platform.egress import (
    GuardedBackend,
    RefusedAddress,
    guarded_transport,
    literal_address,
    refused_host,
)
from dojo_epos.platform.outcome import Failure
from tests.reliability.rigs import scope_for

METADATA = "169.254.169.254"


@pytest.mark.parametrize("host", [
    "2852039166", "0xa9fea9fe", "0XA9FEA9FE", "0xA9.0xFE.0xA9.0xFE", "0251.0376.0251.0376",
    "169.16689662", "169.254.43518", "0251.254.169.254", "169.254.169.254.",
])
def test_every_spelling_of_the_metadata_address_is_refused(host: str) -> None:
    assert str(literal_address(host)) == METADATA
    assert refused_host(host) == f"a link-local address ({METADATA})"


@pytest.mark.parametrize("host", ["0", "0x0", "0.0", "224.1", "[fe80::1]", "[::ffff:a9fe:a9fe]"])
def test_unspecified_multicast_and_v6_link_local_are_refused(host: str) -> None:
    assert refused_host(host) is not None


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f.1", "localhost", "10.0.0.5",
                                  "192.168.1.20", "[::1]", "epos.example", "cafe.example", "a.b"])
def test_loopback_private_and_names_are_allowed(host: str) -> None:
    assert refused_host(host) is None


def test_names_that_only_look_numeric_are_names() -> None:
    assert literal_address("beef.cafe") is None  # hex letters but not an inet_aton form
    assert literal_address("999.1.1.1") is None


@pytest.fixture
async def local_server() -> AsyncIterator[int]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.mark.socket
async def test_a_name_resolving_to_a_refused_address_is_not_connected_to(local_server: int) -> None:
    """DNS rebinding against the platform's own calls: the name is checked when the call is made."""
    answers = {"epos.test": ["127.0.0.1"], "rebound.test": ["127.0.0.1", METADATA]}

    async def resolve(host: str, port: int) -> list[str]:
        return answers[host]

    async with httpx.AsyncClient(transport=guarded_transport(resolve)) as client:
        ok = await client.get(f"http://epos.test:{local_server}/v1/areas")
        assert ok.status_code == 200 and ok.text == "ok"
        with pytest.raises(RefusedAddress, match="rebound.test resolves to a link-local address"):
            await client.get(f"http://rebound.test:{local_server}/v1/areas")
        with pytest.raises(RefusedAddress, match="link-local"):
            await client.get(f"http://0xa9fea9fe:{local_server}/")
        answers["epos.test"] = [METADATA]  # changed after the first call
        with pytest.raises(RefusedAddress):
            await client.get(f"http://epos.test:{local_server}/v1/areas")


async def test_the_platform_calls_epos_urls_through_the_guard(tmp_path: Path) -> None:
    """A REST EPOS registered under a name is invoked through the guarded transport: a refused
    address is a TransportError naming it, and nothing is sent."""
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'p.sqlite3'}"))
    await platform.start()
    try:
        scope = scope_for("house")
        await platform.registry.put_rest(Caller(scope), m.RestIntegrationRequest(
            url="http://localhost.:9/", capabilities=[m.CapabilityRequest(name="ListAreas",
                                                                          version="v1")],
            auth=m.RestAuthRequest(basic=m.RestBasicAuthRequest(username="u", password="p"))
        ).to_wire())
        transport = platform.invoker._client()._transport
        assert isinstance(transport._pool._network_backend, GuardedBackend)
        transport._pool._network_backend.resolve = _always(METADATA)
        outcome = await platform.invoker.invoke(scope, "ListAreas")
        assert outcome.failure is Failure.TRANSPORT_ERROR
        assert "localhost. resolves to a link-local address (169.254.169.254)" in (outcome.detail or "")
    finally:
        await platform.close()


def _always(address: str) -> Any:
    async def resolve(host: str, port: int) -> list[str]:
        return [address]
    return resolve
