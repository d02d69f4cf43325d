"""Webhook deliveries faulted on demand (delay, duplicate, drop), set through the faults API and
seen by a receiver written with plain Starlette on a real loopback socket."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from dojo_epos.platform import Platform
from dojo_epos.webhooks import verify_signature
from tests.platform.conftest import auth_headers, scope_of

from .conftest import Api, take_payment
from .test_webhooks import Receiver, receiver, settings, subscribe  # noqa: F401  (fixtures)

pytestmark = pytest.mark.socket


async def fault(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await http.post("/epos-tester-tool/faults", json=body, headers=auth_headers())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def webhook_log(platform: Platform) -> list[Any]:
    await platform.invoker.flush_log()
    rows = [c for c in await platform.store.calls(scope_of()) if c.transport == "webhook"]
    return list(reversed(rows))


async def test_a_dropped_delivery_is_retried_by_the_back_off_and_logged(
        api: Api, http: httpx.AsyncClient, platform: Platform, receiver: Receiver) -> None:  # noqa: F811
    dropped = await fault(http, kind="webhook-drop", times=1)
    await subscribe(api, receiver.url)
    await take_payment(platform, "pi_f1", amount=1000, tips=0)
    await platform.payments.deliverer.drain()
    assert len(receiver.got) == 1  # the lost attempt never reached it; the retry did
    log = await webhook_log(platform)
    assert [c.outcome for c in log] == ["TransportError", "ok"]
    assert log[0].detail == (f"fault {dropped['id']} (webhook-drop) | delivery lost: not sent "
                             "(attempt 1)")
    assert log[1].detail == "HTTP 200 (attempt 2)"
    assert platform.invoker.faults.of(scope_of()) == []  # fired its one time


async def test_a_duplicated_delivery_arrives_twice_signed_with_one_event_id(
        api: Api, http: httpx.AsyncClient, platform: Platform, receiver: Receiver) -> None:  # noqa: F811
    twice = await fault(http, kind="webhook-duplicate", times=1)
    sub = await subscribe(api, receiver.url)
    await take_payment(platform, "pi_f2", amount=1000, tips=0)
    await platform.payments.deliverer.drain()
    assert len(receiver.got) == 2
    assert receiver.got[0][0] == receiver.got[1][0]  # the same body, so the same event id
    for body, headers in receiver.got:
        assert verify_signature(body, headers["dojo-signature"], [sub["secrets"][0]["value"]])
    log = await webhook_log(platform)
    assert [c.outcome for c in log] == ["ok", "ok"]
    assert log[1].detail == f"fault {twice['id']} (webhook-duplicate) | HTTP 200 (attempt 1, duplicate)"


async def test_a_delayed_delivery_waits_and_says_so(
        api: Api, http: httpx.AsyncClient, platform: Platform, receiver: Receiver) -> None:  # noqa: F811
    slow = await fault(http, kind="webhook-delay", delay=0.4)
    await subscribe(api, receiver.url)
    started = time.perf_counter()
    await take_payment(platform, "pi_f3", amount=1000, tips=0)
    await platform.payments.deliverer.drain()
    assert time.perf_counter() - started >= 0.4 and len(receiver.got) == 1
    (row,) = await webhook_log(platform)
    assert row.outcome == "ok" and row.duration_ms >= 400
    assert row.detail == f"fault {slow['id']} (webhook-delay 0.4 s) | HTTP 200 (attempt 1)"
    # a delay fault without times stays set; a call fault does not touch deliveries
    assert [f.id for f in platform.invoker.faults.of(scope_of())] == [slow["id"]]


async def test_a_duplicate_waits_for_a_delivered_attempt(
        api: Api, http: httpx.AsyncClient, platform: Platform, receiver: Receiver) -> None:  # noqa: F811
    """times=1 is not spent on a failed attempt: the event is duplicated once it is delivered."""
    await fault(http, kind="webhook-duplicate", times=1)
    await subscribe(api, receiver.url)
    receiver.statuses = [500]
    await take_payment(platform, "pi_f4", amount=1000, tips=0)
    await platform.payments.deliverer.drain()
    assert len(receiver.got) == 3 and len({body for body, _ in receiver.got}) == 1
    log = await webhook_log(platform)
    assert [c.outcome for c in log] == ["EposErrorReply", "ok", "ok"]
    assert (log[2].detail or "").endswith("HTTP 200 (attempt 2, duplicate)")
