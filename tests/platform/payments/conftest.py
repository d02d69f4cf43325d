"""Fixtures for the payments API: the in-process platform and an intent to work on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dojo_epos.contract import payments as p
from dojo_epos.platform import Platform
from tests.platform.conftest import auth_headers, scope_of
from tests.platform.dashboard.conftest import reference, rig  # noqa: F401  (the terminal's rig)

from .doc import check_request, check_response

__all__ = ["Api"]


class Api:
    """Calls the payments API in process, validating every request and answer against the doc."""

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str] | None = None) -> None:
        self.http = http
        self.headers = headers or auth_headers()

    async def call(self, method: str, template: str, *, json: Any = None, key: str | None = None,
                   params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                   local: bool = False, **path: str) -> tuple[int, Any]:
        """``local=True``: the body uses a local extension (an http:// loopback webhook URL, which
        the document's https pattern refuses), so only the answer is validated."""
        if json is not None and not local:
            check_request(method, template, json)
        sent = {**self.headers, **(headers or {})}
        if key is not None:
            sent["IdempotencyKey"] = key
        url = template.format(**path)
        response = await self.http.request(method, url, json=json, headers=sent, params=params)
        return response.status_code, check_response(method, template, response, local=local)


@pytest.fixture
def api(http: httpx.AsyncClient) -> Api:
    return Api(http)


async def take_payment(platform: Platform, intent_id: str = "pi_test_1", *, amount: int = 1250,
                       tips: int = 150, order_id: str = "ord_1", waiter: str | None = "w7",
                       **options: Any) -> p.PaymentIntent:
    return await platform.payments.intents.record_payment(
        scope_of(), intent_id=intent_id, order_id=order_id, amount=amount, tips=tips,
        waiter_id=waiter, **options)
