"""``dojo-epos payments`` and ``dojo-epos webhooks`` as separate processes, against the demo.

The demo (its own process) takes Pay at Table and Order & Pay payments through the tester flows, so
its platform holds real payment intents. A till refunds one from the command line; a webhook
receiver written with the standard library's ``http.server`` gets the signed status change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.processes import DOJO_EPOS, clean_env, free_port, spawn

pytestmark = pytest.mark.socket

KEY = "sk_sandbox_dojo_epos_demo_key"
HOUSE = "demo-rest"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("payments-cli")


@pytest.fixture(scope="module")
def demo(folder: Path) -> Iterator[str]:
    """The demo in its own process, after its flows ran; yields the platform's URL."""
    port, epos_port = free_port(), free_port()
    job = spawn("demo", "--data", str(folder / "data"), "--platform-port", str(port),
                "--epos-port", str(epos_port), cwd=folder)
    try:
        job.wait_for("Dashboard:", timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        job.stop()


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(DOJO_API_KEY=KEY, DOJO_SOFTWARE_HOUSE_ID=HOUSE, DOJO_API_URL=url)
    return subprocess.run([DOJO_EPOS, *args], env=env, text=True, capture_output=True, timeout=60)


def captured_intents(url: str) -> list[str]:
    done = cli(url, "payments", "search", "--status", "Captured")
    assert done.returncode == 0, done.stderr
    return re.findall(r"\b(pi_\w+)", done.stdout)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    got: list[tuple[bytes, str]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            got.append((body, self.headers.get("dojo-signature", "")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_till_refunds_part_of_a_pay_at_table_payment(demo: str) -> None:
    intents = captured_intents(demo)
    assert intents, "the demo's flows took no payment"
    shown = cli(demo, "payments", "get", intents[0])
    assert shown.returncode == 0, shown.stderr
    intent = json.loads(shown.stdout)
    assert intent["status"] == "Captured" and intent["orderDetails"]["externalId"].startswith("ord_")
    refunded = cli(demo, "payments", "refund", intents[0], "1.00", "--reason", "cold food",
                   "--idempotency-key", "till-1")
    assert refunded.returncode == 0, refunded.stderr
    assert re.search(r"refund rfnd_\w+: 1\.00 GBP of pi_\w+; refunded 1\.00 GBP of ", refunded.stdout)
    again = cli(demo, "payments", "refund", intents[0], "1.00", "--reason", "cold food",
                "--idempotency-key", "till-1")
    assert again.stdout.split(";")[0] == refunded.stdout.split(";")[0]  # the same refund
    assert json.loads(cli(demo, "payments", "get", intents[0]).stdout)["refundedAmount"] == 100
    too_much = cli(demo, "payments", "refund", intents[0], "9999.00")
    assert too_much.returncode == 1 and "exceeds" not in too_much.stdout
    assert "left to refund" in too_much.stderr and KEY not in too_much.stderr


def test_reverse_and_the_errors_a_till_sees(demo: str) -> None:
    intent = captured_intents(demo)[-1]
    reversed_ = cli(demo, "payments", "reverse", intent)
    assert reversed_.returncode == 0 and "Reversed" in reversed_.stdout
    twice = cli(demo, "payments", "reverse", intent)
    assert twice.returncode == 1 and "HTTP 409" in twice.stderr
    unknown = cli(demo, "payments", "get", "pi_nope")
    assert unknown.returncode == 1 and "HTTP 404" in unknown.stderr
    bad = cli(demo, "payments", "refund", intent, "1.005")
    assert bad.returncode == 2 and "two decimals" in bad.stderr


def test_webhooks_subscribe_deliver_rotate_delete(demo: str, receiver) -> None:
    url, got = receiver
    assert "PaymentIntent: payment_intent.status_updated" in cli(demo, "webhooks", "events").stdout
    subscribed = cli(demo, "webhooks", "subscribe", url)
    assert subscribed.returncode == 0, subscribed.stderr
    sub_id = re.search(r"subscription (ws_\S+)", subscribed.stdout).group(1)  # type: ignore[union-attr]
    rotated = cli(demo, "webhooks", "rotate", sub_id)
    assert rotated.returncode == 0, rotated.stderr
    secret = rotated.stdout.split(": ", 1)[1].strip()
    listed = cli(demo, "webhooks", "secrets", sub_id).stdout.split()
    assert listed[1:] == ["active", secret]
    intent = captured_intents(demo)[0]
    whole = json.loads(cli(demo, "payments", "get", intent).stdout)
    left = whole["totalAmount"]["value"] - whole["refundedAmount"]
    done = cli(demo, "payments", "refund", intent, f"{left / 100:.2f}")
    assert done.returncode == 0 and "status Refunded" in done.stdout
    for _ in range(100):
        if got:
            break
        threading.Event().wait(0.05)
    body, header = got[0]
    event = json.loads(body)
    assert event["data"] == {"paymentIntentId": intent, "paymentStatus": "Refunded",
                             "captureMode": "Auto"}
    stamp, mac = (part.split("=", 1)[1] for part in header.split(","))
    assert hmac.compare_digest(mac, hmac.new(secret.encode(), stamp.encode() + b"." + body,
                                             hashlib.sha256).hexdigest())
    assert cli(demo, "webhooks", "delete", sub_id).returncode == 0
    assert json.loads(cli(demo, "webhooks", "list").stdout) == []


def test_the_till_refunds_an_orders_card_payment(demo: str, folder: Path) -> None:
    epos_db = f"sqlite:///{folder / 'data' / 'epos.sqlite3'}"
    intent = captured_intents(demo)[1]
    order = json.loads(cli(demo, "payments", "get", intent).stdout)["orderDetails"]["externalId"]
    done = cli(demo, "epos", "till", "refund", order, "0.50", "--payment", intent, "--db", epos_db)
    assert done.returncode == 0, done.stderr
    assert f"order {order}: refunded 0.50 GBP of payment {intent}" in done.stdout
    assert json.loads(cli(demo, "payments", "get", intent).stdout)["refundedAmount"] == 50
    other = cli(demo, "epos", "till", "refund", order, "0.50", "--payment", "pi_other", "--db", epos_db)
    assert other.returncode == 1 and "has no payment pi_other" in other.stderr


def test_webhook_urls_are_checked(demo: str) -> None:
    refused = cli(demo, "webhooks", "subscribe", "http://example.com/hook")
    assert refused.returncode == 1 and "https" in refused.stderr
    assert Path(DOJO_EPOS).exists()
