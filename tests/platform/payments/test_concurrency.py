"""Refunds racing on one intent: never more than captured, one refund per key (SQLite, PostgreSQL).

Two platforms on one database stand for two processes: each has its own engine and connections, so
the guard under test is the database's, not an in-process lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from tests.platform.conftest import auth_headers, scope_of
from tests.platform.test_store_postgres import pg_url  # noqa: F401  (fixture)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'platform.sqlite3'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def clients(db_url: str) -> AsyncIterator[tuple[Platform, list[httpx.AsyncClient]]]:
    platforms = [Platform(PlatformSettings(db_url=db_url)) for _ in range(2)]
    for platform in platforms:
        await platform.start()
    opened = [httpx.AsyncClient(transport=httpx.ASGITransport(app=build_platform_app(platform=pl)),
                                base_url="http://platform") for pl in platforms]
    yield platforms[0], opened
    for client in opened:
        await client.aclose()
    for platform in platforms:
        await platform.close()


async def _refund(client: httpx.AsyncClient, intent: str, amount: int, key: str) -> httpx.Response:
    return await client.post(f"/payment-intents/{intent}/refunds", json={"amount": amount},
                             headers={**auth_headers(), "IdempotencyKey": key})


async def _intent(client: httpx.AsyncClient, intent: str) -> dict:
    response = await client.get(f"/payment-intents/{intent}", headers=auth_headers())
    assert response.status_code == 200
    return response.json()


async def test_two_refunds_racing_never_pass_the_captured_amount(clients) -> None:
    platform, (one, two) = clients
    for round_ in range(5):
        intent = f"pi_race_{round_}"
        await platform.payments.intents.record_payment(scope_of(), intent_id=intent, order_id="o",
                                                       amount=1000)
        answers = await asyncio.gather(_refund(one, intent, 600, "a"), _refund(two, intent, 600, "b"))
        assert sorted(r.status_code for r in answers) == [200, 400]
        assert (await _intent(one, intent))["refundedAmount"] == 600


async def test_many_small_refunds_racing_add_up_to_the_captured_amount(clients) -> None:
    platform, (one, two) = clients
    await platform.payments.intents.record_payment(scope_of(), intent_id="pi_many", order_id="o",
                                                   amount=900, tips=100)
    answers = await asyncio.gather(*(_refund((one, two)[n % 2], "pi_many", 100, f"k{n}")
                                     for n in range(14)))
    assert [r.status_code for r in answers].count(200) == 10
    assert {r.status_code for r in answers} == {200, 400}
    intent = await _intent(two, "pi_many")
    assert intent["refundedAmount"] == 1000 and intent["status"] == "Refunded"


async def test_the_same_key_racing_refunds_once(clients) -> None:
    platform, (one, two) = clients
    await platform.payments.intents.record_payment(scope_of(), intent_id="pi_key", order_id="o",
                                                   amount=1000)
    answers = await asyncio.gather(*(_refund((one, two)[n % 2], "pi_key", 300, "same")
                                     for n in range(6)))
    assert {r.status_code for r in answers} == {200}
    assert len({r.json()["refundId"] for r in answers}) == 1
    assert (await _intent(one, "pi_key"))["refundedAmount"] == 300
