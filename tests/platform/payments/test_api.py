"""The payments API over HTTP, every request and answer validated against Dojo's document."""

from __future__ import annotations

import pytest

from dojo_epos.contract.models import CaptureMode
from dojo_epos.platform import Platform
from tests.platform.conftest import OTHER_SANDBOX_KEY, PROD_KEY, auth_headers, scope_of
from tests.specs import needs_specs

from .conftest import Api, take_payment
from .doc import CHECKED, check_response, operations

pytestmark = needs_specs

PI = "/payment-intents/{paymentIntentId}"
HTTPS_URL = "https://epos.example/dojo/webhooks"


async def test_every_operation_of_the_document_is_served(api: Api, platform: Platform) -> None:
    CHECKED.clear()
    await take_payment(platform, "pi_a", amount=1000, tips=0)
    await take_payment(platform, "pi_b", amount=2000, tips=0)
    await take_payment(platform, "pi_m", amount=3000, tips=0, capture_mode=CaptureMode.MANUAL)

    status, intent = await api.call("GET", PI, paymentIntentId="pi_a")
    assert status == 200 and intent["status"] == "Captured"
    status, page = await api.call("POST", "/payment-intents/search", json={})
    assert status == 200 and {i["id"] for i in page["data"]} == {"pi_a", "pi_b", "pi_m"}
    status, refund = await api.call("POST", PI + "/refunds", json={"amount": 400}, key="k1",
                                    paymentIntentId="pi_a")
    assert status == 200 and refund["paymentIntentId"] == "pi_a"
    status, again = await api.call("GET", "/payment-intents/refunds/{refundId}",
                                   refundId=refund["refundId"])
    assert status == 200 and again == refund
    status, reversal = await api.call("POST", PI + "/reversal", paymentIntentId="pi_b")
    assert status == 200 and reversal["reversalId"]
    status, capture = await api.call("POST", PI + "/captures", json={"amount": 2500},
                                     paymentIntentId="pi_m")
    assert status == 200 and capture["captureId"]

    status, events = await api.call("GET", "/webhooks/events")
    assert status == 200 and events == [{"model": "PaymentIntent", "events": [
        "payment_intent.created", "payment_intent.status_updated"]}]
    status, sub = await api.call("POST", "/webhooks", json={
        "events": ["payment_intent.status_updated"], "url": HTTPS_URL})
    assert status == 200 and len(sub["secrets"]) == 1 and sub["secrets"][0]["isActive"]
    status, subs = await api.call("GET", "/webhooks")
    assert status == 200 and [s["id"] for s in subs] == [sub["id"]]
    status, changed = await api.call("PATCH", "/webhooks/{subscriptionId}", json={
        "events": ["payment_intent.created", "payment_intent.status_updated"]},
        subscriptionId=sub["id"])
    assert status == 200 and len(changed["events"]) == 2
    status, held = await api.call("GET", "/webhooks/{subscriptionId}/secrets", subscriptionId=sub["id"])
    assert status == 200 and held["id"] == sub["id"] and len(held["secrets"]) == 1
    status, more = await api.call("POST", "/webhooks/{subscriptionId}/secrets", subscriptionId=sub["id"])
    assert status == 200 and [s["isActive"] for s in more["secrets"]] == [True, False]
    old, new = more["secrets"][0]["id"], more["secrets"][1]["id"]
    status, _ = await api.call("PUT", "/webhooks/{subscriptionId}/secrets/{secretId}/activate",
                               subscriptionId=sub["id"], secretId=new)
    assert status == 204
    status, _ = await api.call("DELETE", "/webhooks/{subscriptionId}/secrets/{secretId}",
                               subscriptionId=sub["id"], secretId=old)
    assert status == 204
    status, _ = await api.call("DELETE", "/webhooks/{subscriptionId}", subscriptionId=sub["id"])
    assert status == 204
    assert CHECKED == operations()


async def test_the_intent_carries_order_waiter_tips_and_its_history(api: Api, platform: Platform
                                                                    ) -> None:
    await take_payment(platform, "pi_x", amount=1250, tips=150, order_id="ord_9", waiter="w42")
    _, intent = await api.call("GET", PI, paymentIntentId="pi_x")
    assert intent["orderDetails"]["externalId"] == "ord_9"
    assert intent["metadata"]["waiterId"] == "w42"
    assert intent["amount"] == {"value": 1250, "currencyCode": "GBP"}
    assert intent["tipsAmount"]["value"] == 150 and intent["totalAmount"]["value"] == 1400
    await api.call("POST", PI + "/refunds", json={"amount": 1400}, key="all", paymentIntentId="pi_x")
    history = await platform.payments.intents.history(scope_of(), "pi_x")
    assert [h["status"] for h in history] == ["Created", "Authorized", "Captured", "Refunded"]


async def test_partial_refunds_add_up_and_never_pass_the_captured_amount(api: Api, platform: Platform
                                                                        ) -> None:
    await take_payment(platform, "pi_r", amount=1000, tips=200)
    for key, amount in (("a", 500), ("b", 500)):
        status, _ = await api.call("POST", PI + "/refunds", json={"amount": amount}, key=key,
                                   paymentIntentId="pi_r")
        assert status == 200
    status, problem = await api.call("POST", PI + "/refunds", json={"amount": 201}, key="c",
                                     paymentIntentId="pi_r")
    assert status == 400 and "200 of 1200" in problem["detail"]
    _, intent = await api.call("GET", PI, paymentIntentId="pi_r")
    assert intent["refundedAmount"] == 1000 and intent["status"] == "Captured"
    status, _ = await api.call("POST", PI + "/refunds", json={"amount": 200}, key="d",
                               paymentIntentId="pi_r")
    _, intent = await api.call("GET", PI, paymentIntentId="pi_r")
    assert intent["refundedAmount"] == 1200 and intent["status"] == "Refunded"
    status, problem = await api.call("POST", PI + "/refunds", json={"amount": 1}, key="e",
                                     paymentIntentId="pi_r")
    assert status == 400 and "Refunded" in problem["detail"]


async def test_an_idempotency_key_gives_the_original_answer_and_refuses_another_body(
        api: Api, platform: Platform) -> None:
    await take_payment(platform, "pi_i", amount=1000, tips=0)
    _, first = await api.call("POST", PI + "/refunds", json={"amount": 300}, key="same",
                              paymentIntentId="pi_i")
    status, second = await api.call("POST", PI + "/refunds", json={"amount": 300}, key="same",
                                    paymentIntentId="pi_i")
    assert status == 200 and second == first
    status, problem = await api.call("POST", PI + "/refunds", json={"amount": 301}, key="same",
                                     paymentIntentId="pi_i")
    assert status == 400 and problem["title"] == "Idempotency key reused"
    _, intent = await api.call("GET", PI, paymentIntentId="pi_i")
    assert intent["refundedAmount"] == 300


async def test_a_reversal_only_before_settlement(api: Api, platform: Platform) -> None:
    await take_payment(platform, "pi_s", amount=1000, tips=0)
    platform.payments.intents.settle_after = 0  # settled as soon as captured
    status, problem = await api.call("POST", PI + "/reversal", paymentIntentId="pi_s")
    assert status == 409 and "settled" in problem["detail"]
    platform.payments.intents.settle_after = 3600
    await take_payment(platform, "pi_t", amount=1000, tips=0)
    await api.call("POST", PI + "/refunds", json={"amount": 1}, key="k", paymentIntentId="pi_t")
    status, problem = await api.call("POST", PI + "/reversal", paymentIntentId="pi_t")
    assert status == 409 and "refunded" in problem["detail"]
    await take_payment(platform, "pi_u", amount=1000, tips=0)
    status, _ = await api.call("POST", PI + "/reversal", paymentIntentId="pi_u")
    assert status == 200
    status, problem = await api.call("POST", PI + "/reversal", paymentIntentId="pi_u")
    assert status == 409 and "Reversed" in problem["detail"]
    status, problem = await api.call("POST", PI + "/refunds", json={"amount": 1}, key="z",
                                     paymentIntentId="pi_u")
    assert status == 400


async def test_capture_rules(api: Api, platform: Platform) -> None:
    await take_payment(platform, "pi_m", amount=1000, tips=0, capture_mode=CaptureMode.MANUAL)
    _, intent = await api.call("GET", PI, paymentIntentId="pi_m")
    assert intent["status"] == "Authorized" and intent["captureMode"] == "Manual"
    status, _ = await api.call("POST", PI + "/refunds", json={"amount": 1}, key="r",
                               paymentIntentId="pi_m")
    assert status == 400  # nothing captured yet
    status, _ = await api.call("POST", PI + "/captures", json={"amount": 1001}, paymentIntentId="pi_m")
    assert status == 400
    status, _ = await api.call("POST", PI + "/captures", json={"amount": 900, "tipsAmount": 100},
                               paymentIntentId="pi_m")
    assert status == 200
    _, intent = await api.call("GET", PI, paymentIntentId="pi_m")
    assert intent["status"] == "Captured" and intent["captures"][0]["amount"] == 900
    status, _ = await api.call("POST", PI + "/captures", json={"amount": 1}, paymentIntentId="pi_m")
    assert status == 409
    status, _ = await api.call("POST", PI + "/refunds", json={"amount": 1000}, key="r2",
                               paymentIntentId="pi_m")
    assert status == 200


@pytest.mark.parametrize("key", [OTHER_SANDBOX_KEY, PROD_KEY])
async def test_another_accounts_intent_is_not_found(api: Api, http, platform: Platform, key: str
                                                    ) -> None:
    await take_payment(platform, "pi_mine")
    stranger = Api(http, auth_headers(key))
    status, problem = await stranger.call("GET", PI, paymentIntentId="pi_mine")
    assert status == 404 and problem["status"] == 404
    status, _ = await stranger.call("POST", PI + "/refunds", json={"amount": 1}, key="x",
                                    paymentIntentId="pi_mine")
    assert status == 404
    _, page = await stranger.call("POST", "/payment-intents/search", json={})
    assert page["data"] == []
    status, _ = await api.call("GET", PI, paymentIntentId="pi_unknown")
    assert status == 404


@pytest.mark.parametrize(("body", "key", "field"), [
    ({}, "k", "amount"),
    ({"amount": "ten"}, "k", "amount"),
    ({"amount": 0}, "k", "amount"),
    ({"amount": -5}, "k", "amount"),
    ({"amount": 1, "surprise": True}, "k", "surprise"),
    ({"amount": 1, "notes": "x" * 4097}, "k", "notes"),
    ({"amount": 1}, None, "idempotencyKey"),
    ({"amount": 1}, "k" * 101, "idempotencyKey"),
])
async def test_bad_refund_requests_change_nothing(api: Api, http, platform: Platform, body: dict,
                                                  key: str | None, field: str) -> None:
    await take_payment(platform, "pi_bad", amount=1000, tips=0)
    headers = {**auth_headers(), **({"IdempotencyKey": key} if key else {})}
    response = await http.post("/payment-intents/pi_bad/refunds", json=body, headers=headers)
    problem = check_response("POST", PI + "/refunds", response)
    assert response.status_code == 400 and field in problem["errors"]
    _, intent = await api.call("GET", PI, paymentIntentId="pi_bad")
    assert intent["refundedAmount"] == 0


async def test_auth_version_and_body_errors_are_problem_details(http) -> None:
    no_key = await http.get("/payment-intents/pi_1", headers={"version": "2026-02-27"})
    assert no_key.status_code == 401 and check_response("GET", PI, no_key)["status"] == 401
    headers = auth_headers()
    del headers["version"]
    no_version = await http.get("/payment-intents/pi_1", headers=headers)
    assert no_version.status_code == 400 and "version" in check_response("GET", PI, no_version)["errors"]
    not_json = await http.post("/payment-intents/search", content=b"{nope", headers=auth_headers())
    assert not_json.status_code == 400
    check_response("POST", "/payment-intents/search", not_json)
    bad_cursor = await http.post("/payment-intents/search", json={"cursor": {"after": "!!"}},
                                 headers=auth_headers())
    assert bad_cursor.status_code == 400 and "cursor" in bad_cursor.json()["errors"]


async def test_search_pages_with_cursors_and_filters(api: Api, platform: Platform) -> None:
    for n in range(7):
        await take_payment(platform, f"pi_{n}", amount=100 + n, tips=0)
    await api.call("POST", PI + "/reversal", paymentIntentId="pi_3")
    seen: list[str] = []
    cursor: dict[str, str | int] = {"limit": 3}
    for _ in range(5):
        _, page = await api.call("POST", "/payment-intents/search", json={"cursor": cursor})
        seen += [i["id"] for i in page["data"]]
        if not page.get("after"):
            break
        cursor = {"limit": 3, "after": page["after"]}
    assert sorted(seen) == sorted(f"pi_{n}" for n in range(7)) and len(seen) == 7
    _, back = await api.call("POST", "/payment-intents/search",
                             json={"cursor": {"limit": 3, "before": page["before"]}})
    assert [i["id"] for i in back["data"]] == seen[3:6]
    _, reversed_only = await api.call("POST", "/payment-intents/search", json={"statuses": ["Reversed"]})
    assert [i["id"] for i in reversed_only["data"]] == ["pi_3"]
    _, none = await api.call("POST", "/payment-intents/search",
                             json={"startDate": "2999-01-01T00:00:00Z"})
    assert none["data"] == []


async def test_subscription_errors(api: Api) -> None:
    status, problem = await api.call("POST", "/webhooks", json={"events": ["payment.successful"],
                                                                "url": HTTPS_URL})
    assert status == 400 and problem["errors"]
    status, _ = await api.call("POST", "/webhooks", json={"events": ["payment_intent.created"],
                                                          "url": HTTPS_URL})
    assert status == 200
    status, _ = await api.call("POST", "/webhooks", json={"events": ["payment_intent.created"],
                                                          "url": HTTPS_URL})
    assert status == 409
    status, _ = await api.call("PATCH", "/webhooks/{subscriptionId}", json={"events": []},
                               subscriptionId="ws_nope")
    assert status in (400, 404)
    status, _ = await api.call("DELETE", "/webhooks/{subscriptionId}", subscriptionId="ws_nope")
    assert status == 404


@pytest.mark.parametrize("url", ["http://epos.example/hook", "ftp://x/y", "https://169.254.169.254/x",
                                 "http://10.0.0.1/hook", "notaurl"])
async def test_webhook_urls_refused(http, url: str) -> None:
    response = await http.post("/webhooks", json={"events": ["payment_intent.created"], "url": url},
                               headers=auth_headers())
    assert response.status_code == 400
    check_response("POST", "/webhooks", response)


async def test_the_active_secret_cannot_be_deleted_and_at_most_two_are_held(api: Api) -> None:
    _, sub = await api.call("POST", "/webhooks", json={"events": ["payment_intent.created"],
                                                       "url": HTTPS_URL})
    active = sub["secrets"][0]["id"]
    status, _ = await api.call("DELETE", "/webhooks/{subscriptionId}/secrets/{secretId}",
                               subscriptionId=sub["id"], secretId=active)
    assert status == 409
    await api.call("POST", "/webhooks/{subscriptionId}/secrets", subscriptionId=sub["id"])
    status, _ = await api.call("POST", "/webhooks/{subscriptionId}/secrets", subscriptionId=sub["id"])
    assert status == 409
    status, _ = await api.call("PUT", "/webhooks/{subscriptionId}/secrets/{secretId}/activate",
                               subscriptionId=sub["id"], secretId="sc_nope")
    assert status == 404
