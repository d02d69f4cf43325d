"""``dojo-epos flows run`` and ``dojo-epos call`` as separate processes, against EPOSes not ours.

The platform and three EPOSes run on loopback ports in a background thread: the reference EPOS, a
stranger's minimal Pay at Table EPOS (plain Starlette, three capabilities) and a stranger's EPOS too
slow for the call time-out. Each is registered under its own software house (its own scope).
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from tests.platform.tester.strangers import PASSWORD, USER, Defect, OrderBook, rest_app
from tests.processes import (
    DOJO_EPOS,
    BackgroundServers,
    clean_env,
    serve,
    serve_platform,
    serve_reference,
)

KEY = "sk_sandbox_cli_tester_key_0001"
HOUSES = {"reference": "ref-house", "partial": "partial-house", "slow": "slow-house"}

pytestmark = pytest.mark.socket


def env_of(servers: BackgroundServers, epos: str) -> dict[str, str]:
    platform = "slow-platform" if epos == "slow" else "platform"
    return {"DOJO_API_URL": servers.urls[platform], "DOJO_API_KEY": KEY,
            "DOJO_SOFTWARE_HOUSE_ID": HOUSES[epos], "COLUMNS": "200"}


def dojo_epos(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``dojo-epos ARGS`` in a process of its own, as a user (or a CI job) runs it."""
    return subprocess.run([DOJO_EPOS, *args], capture_output=True, text=True, timeout=120,
                          env=clean_env(**env), check=False)


def platform_and_eposes(folder: Path) -> BackgroundServers:
    """The local platform and the three EPOSes (``with`` it to run them).

    The slow EPOS is registered with a platform of its own whose call time-out is short (1 s; it
    answers after 3 s), so the time-out tests wait 1 s a call, while the other EPOSes keep a time-out
    (4 s) that a busy machine's Certification runs stay well within.
    """
    async def setup(stack: AsyncExitStack) -> dict[str, str]:
        (folder / "slow").mkdir(exist_ok=True)
        return {"platform": await serve_platform(stack, folder, call_timeout=4.0),
                "slow-platform": await serve_platform(stack, folder / "slow", call_timeout=1.0),
                "reference": await serve_reference(stack, folder, username=USER, password=PASSWORD),
                "partial": await serve(stack, rest_app(OrderBook())),
                "slow": await serve(stack, rest_app(OrderBook(Defect.SLOW, slow_seconds=3.0)))}

    return BackgroundServers(setup)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServers]:
    """The local platform and the three EPOSes, each EPOS registered under its own scope."""
    with platform_and_eposes(tmp_path_factory.mktemp("cli-tester")) as running:
        for epos, caps in (("reference", []), ("partial", ["SearchOrders", "GetOrderById",
                                                           "RecordOrderPayment"]),
                           ("slow", ["SearchOrders", "GetOrderById", "RecordOrderPayment"])):
            flags = [f for cap in caps for f in ("--capability", cap)] or ["--reference"]
            registered = dojo_epos("register", "rest", "--url", running.urls[epos], "--username", USER,
                                   "--password", PASSWORD, *flags, env=env_of(running, epos))
            if registered.returncode != 0 and "--reference" in flags:  # before i13's --reference
                registered = dojo_epos("register", "rest", "--url", running.urls[epos], "--username",
                                       USER, "--password", PASSWORD, env=env_of(running, epos))
            assert registered.returncode == 0, registered.stdout + registered.stderr
        yield running


def test_certification_of_a_partial_epos_exits_1_with_per_product_verdicts(
    servers: BackgroundServers, tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    ran = dojo_epos("flows", "run", "Certification", "--wait", "--junit", str(report),
                    env=env_of(servers, "partial"))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("Certification through EPOS Data API: FAILURE in ")
    verdicts = [line.split()[0] + " " + line.split("  ")[-1] for line in lines[1:5]]
    assert lines[1].startswith("SUCCESS") and "Pay at Table: verdict" in lines[1], verdicts
    assert lines[2].startswith("SUCCESS") and "QR Pay: verdict" in lines[2]
    assert lines[3].startswith("FAILURE") and "Order & Pay: verdict  -  CreateOrder method not found" \
        in lines[3]
    assert lines[4].startswith("FAILURE") and "Bookings: verdict  -  SearchTables method not found" \
        in lines[4]
    assert lines[-1] == f"Dashboard: {servers.urls['platform']}/dashboard/flows/" + \
        lines[0].rsplit("(flow ", 1)[1].rstrip(")")
    suite = ET.parse(report).getroot()
    assert int(suite.get("failures", "0")) >= 4  # 2 verdicts + a section of each
    # every product targeted: only the resilience flow that needs a socket is left out over REST
    skipped = [c.get("name") for c in suite.iter("testcase") if c.find("skipped") is not None]
    assert skipped == ["Keepalive: not over REST", "Duplicate delivery: not over REST",
                       "Reconnect: not over REST", "Replaced socket: not over REST"]
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert "Order & Pay: verdict" in failed and "Bookings: verdict" in failed


def test_targeting_pay_at_table_certifies_it_and_skips_the_rest_in_junit(
    servers: BackgroundServers, tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    ran = dojo_epos("flows", "run", "Certification", "--param", "products=pay at table", "--junit",
                    str(report), env=env_of(servers, "partial"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.splitlines()[1].startswith("SUCCESS")
    assert "Pay at Table: verdict  -  Pay at Table: certified" in ran.stdout
    suite = ET.parse(report).getroot()
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    skipped = [c.get("name") for c in suite.iter("testcase") if c.find("skipped") is not None]
    assert skipped == ["Tables: not targeted", "Areas: not targeted", "Order and Pay: not targeted",
                       "Bookings: not targeted", "Keepalive: not over REST",
                       "Duplicate delivery: not over REST", "Reconnect: not over REST",
                       "Replaced socket: not over REST"]
    assert suite.get("skipped") == "8"


def test_certification_of_the_reference_epos_succeeds(servers: BackgroundServers) -> None:
    ran = dojo_epos("flows", "run", "Certification", "--wait", env=env_of(servers, "reference"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    for product in ("Pay at Table", "QR Pay", "Order & Pay", "Bookings"):
        assert f"{product}: certified" in ran.stdout
    assert "FAILURE" not in ran.stdout


def test_verbose_shows_each_steps_details_as_json(servers: BackgroundServers) -> None:
    ran = dojo_epos("flows", "run", "Get Order", "--param", "orderId=o1", "--wait", "--verbose",
                    env=env_of(servers, "partial"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert '      "registered: GetOrderById",' in ran.stdout.splitlines()
    quiet = dojo_epos("flows", "run", "Get Order", "--param", "orderId=o1", "--wait",
                      env=env_of(servers, "partial"))
    assert "sent GetOrderById" not in quiet.stdout and "sent GetOrderById" in ran.stdout


def test_call_prints_request_and_reply_and_exits_by_verdict(servers: BackgroundServers) -> None:
    env = env_of(servers, "partial")
    ok = dojo_epos("call", "GetOrder", "--param", "orderId=o2", "--transport", "rest", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[0].startswith("Call GetOrderById through EPOS Data API: SUCCESS")
    assert lines[1].startswith("SUCCESS") and "Call GetOrderById over rest" in lines[1]
    assert "request:" in lines and "reply:" in lines
    assert '  "method": "GET",' in lines
    assert '    "id": "o2",' in lines
    assert "schema: valid (Order)" in lines
    not_found = dojo_epos("call", "GetOrderById", "--json", '{"orderId": "nope"}', env=env)
    assert not_found.returncode == 1
    assert "EPOS error: NotFound" in not_found.stdout
    unknown = dojo_epos("call", "GetEverything", env=env)
    assert unknown.returncode == 2 and "GetEverything" in unknown.stderr
    bad_json = dojo_epos("call", "GetOrderById", "--json", "{", env=env)
    assert bad_json.returncode == 2 and "--json is not JSON" in bad_json.stderr


def test_time_outs_and_connection_errors_have_their_own_exit_codes(servers: BackgroundServers) -> None:
    slow = dojo_epos("call", "GetOrderById", "--param", "orderId=o1", env=env_of(servers, "slow"))
    assert slow.returncode == 3, slow.stdout + slow.stderr
    assert slow.stdout.startswith("Call GetOrderById through EPOS Data API: TIMED_OUT")
    flow = dojo_epos("flows", "run", "Get Order", "--param", "orderId=o1", "--wait",
                     env=env_of(servers, "slow"))
    assert flow.returncode == 3, flow.stdout + flow.stderr
    nowhere = dojo_epos("flows", "run", "Certification", "--wait",
                        env={**env_of(servers, "partial"), "DOJO_API_URL": "http://127.0.0.1:9"})
    assert nowhere.returncode == 2
    assert "Traceback" not in nowhere.stderr
