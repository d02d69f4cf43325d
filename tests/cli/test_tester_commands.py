"""``dojo-epos flows run`` and ``dojo-epos call`` as separate processes, against EPOSes not ours.

The platform and three EPOSes run on loopback ports in a background thread: the reference EPOS, a
stranger's minimal Pay at Table EPOS (plain Starlette, three capabilities) and a stranger's EPOS too
slow for the call time-out. Each is registered under its own software house (its own scope).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dojo_epos.epos.reference import open_reference
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.serving import start_server
from tests.platform.tester.strangers import PASSWORD, USER, Defect, OrderBook, rest_app

KEY = "sk_sandbox_cli_tester_key_0001"
HOUSES = {"reference": "ref-house", "partial": "partial-house", "slow": "slow-house"}

pytestmark = pytest.mark.socket


class _Servers:
    """The local platform and the three EPOSes, in a thread of their own."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.urls: dict[str, str] = {}
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),),
                                       daemon=True)
        self._stop: asyncio.Event | None = None

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        epos = await open_reference(f"sqlite:///{self.tmp / 'epos.sqlite3'}")
        await seed_database(epos.db)
        platform = Platform(PlatformSettings(db_url=f"sqlite:///{self.tmp / 'p.sqlite3'}",
                                             ping_interval=None, call_timeout=4.0))
        served = [await start_server(build_platform_app(platform=platform), lifespan="off"),
                  await start_server(build_rest_app(epos, username=USER, password=PASSWORD)),
                  await start_server(rest_app(OrderBook())),
                  await start_server(rest_app(OrderBook(Defect.SLOW, slow_seconds=6.0)))]
        self.urls = dict(zip(["platform", "reference", "partial", "slow"],
                             [s.url for s in served], strict=True))
        self.ready.set()
        await self._stop.wait()
        for server in served:
            await server.stop()
        await platform.close()
        await epos.aclose()

    def __enter__(self) -> _Servers:
        self.thread.start()
        assert self.ready.wait(30)
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)
        self.loop.close()

    def env(self, epos: str) -> dict[str, str]:
        return {"DOJO_API_URL": self.urls["platform"], "DOJO_API_KEY": KEY,
                "DOJO_SOFTWARE_HOUSE_ID": HOUSES[epos], "COLUMNS": "200"}


def dojo_epos(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``dojo-epos ARGS`` in a process of its own, as a user (or a CI job) runs it."""
    return subprocess.run([sys.executable, "-m", "dojo_epos.cli", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env}, check=False)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Servers]:
    with _Servers(tmp_path_factory.mktemp("cli-tester")) as running:
        for epos, caps in (("reference", []), ("partial", ["SearchOrders", "GetOrderById",
                                                           "RecordOrderPayment"]),
                           ("slow", ["SearchOrders", "GetOrderById", "RecordOrderPayment"])):
            flags = [f for cap in caps for f in ("--capability", cap)] or ["--reference"]
            registered = dojo_epos("register", "rest", "--url", running.urls[epos], "--username", USER,
                                   "--password", PASSWORD, *flags, env=running.env(epos))
            if registered.returncode != 0 and "--reference" in flags:  # before i13's --reference
                registered = dojo_epos("register", "rest", "--url", running.urls[epos], "--username",
                                       USER, "--password", PASSWORD, env=running.env(epos))
            assert registered.returncode == 0, registered.stdout + registered.stderr
        yield running


def test_certification_of_a_partial_epos_exits_1_with_per_product_verdicts(
    servers: _Servers, tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    ran = dojo_epos("flows", "run", "Certification", "--wait", "--junit", str(report),
                    env=servers.env("partial"))
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
    servers: _Servers, tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    ran = dojo_epos("flows", "run", "Certification", "--param", "products=pay at table", "--junit",
                    str(report), env=servers.env("partial"))
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


def test_certification_of_the_reference_epos_succeeds(servers: _Servers) -> None:
    ran = dojo_epos("flows", "run", "Certification", "--wait", env=servers.env("reference"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    for product in ("Pay at Table", "QR Pay", "Order & Pay", "Bookings"):
        assert f"{product}: certified" in ran.stdout
    assert "FAILURE" not in ran.stdout


def test_verbose_shows_each_steps_details_as_json(servers: _Servers) -> None:
    ran = dojo_epos("flows", "run", "Get Order", "--param", "orderId=o1", "--wait", "--verbose",
                    env=servers.env("partial"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert '      "registered: GetOrderById",' in ran.stdout.splitlines()
    quiet = dojo_epos("flows", "run", "Get Order", "--param", "orderId=o1", "--wait",
                      env=servers.env("partial"))
    assert "sent GetOrderById" not in quiet.stdout and "sent GetOrderById" in ran.stdout


def test_call_prints_request_and_reply_and_exits_by_verdict(servers: _Servers) -> None:
    env = servers.env("partial")
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


def test_time_outs_and_connection_errors_have_their_own_exit_codes(servers: _Servers) -> None:
    slow = dojo_epos("call", "GetOrderById", "--param", "orderId=o1", env=servers.env("slow"))
    assert slow.returncode == 3, slow.stdout + slow.stderr
    assert slow.stdout.startswith("Call GetOrderById through EPOS Data API: TIMED_OUT")
    flow = dojo_epos("flows", "run", "Get Order", "--param", "orderId=o1", "--wait",
                     env=servers.env("slow"))
    assert flow.returncode == 3, flow.stdout + flow.stderr
    nowhere = dojo_epos("flows", "run", "Certification", "--wait",
                        env={**servers.env("partial"), "DOJO_API_URL": "http://127.0.0.1:9"})
    assert nowhere.returncode == 2
    assert "Traceback" not in nowhere.stderr
