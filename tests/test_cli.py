"""The ``dojo-epos`` command, end to end: demo, seed, till, register and flows."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dojo_epos.cli import app
from tests.processes import (
    BackgroundServers,
    free_port,
    serve_platform,
    serve_reference,
    spawn,
    wait_for_http,
)

runner = CliRunner()
KEY, HOUSE = "sk_sandbox_cli_test_key_0001", "cli-house"


def test_demo_once_runs_every_flow_and_exits_0(tmp_path: Path) -> None:
    """What ``make demo`` runs, minus the serving forever; and a re-run reuses the set-up.

    The platform's port is taken, so the demo picks another and says which.
    """
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        args = ["demo", "--once", "--data", str(tmp_path), "--platform-port", str(taken),
                "--epos-port", "0"]
        first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "6/6 flows succeeded" in first.output
    assert f"port {taken} is busy: the platform took port " in first.output
    args[args.index(str(taken))] = "0"
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "new: 0 tables, 0 open orders" in second.output


def test_seed_and_till(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'epos.sqlite3'}"
    seeded = runner.invoke(app, ["epos", "seed", "--db", db])
    assert seeded.exit_code == 0, seeded.output
    assert "12 tables" in seeded.output
    again = runner.invoke(app, ["epos", "seed", "--db", db])
    assert "0 tables, 0 open orders" in again.output
    opened = runner.invoke(app, ["epos", "till", "open", "T3", "MN-BURG*2+MOD-CHEESE",
                                 "DR-COKE", "--db", db])
    assert opened.exit_code == 0, opened.output
    order_id = opened.output.split()[0]
    assert "2 x Dry-aged beef burger" in opened.output
    voided = runner.invoke(app, ["epos", "till", "void", order_id, "1", "--db", db])
    assert voided.exit_code == 0 and "DR-COKE" not in voided.output
    listed = runner.invoke(app, ["epos", "till", "list", "--table", "T3", "--db", db])
    assert order_id in listed.output
    bad = runner.invoke(app, ["epos", "till", "open", "T99", "--db", db])
    assert bad.exit_code == 1 and "NotFound" in bad.output
    unknown = runner.invoke(app, ["epos", "till", "open", "T3", "NOPE", "--db", db])
    assert unknown.exit_code == 2 and "not a menu line" in unknown.output


@pytest.fixture
def background(tmp_path: Path) -> Iterator[BackgroundServers]:
    """The local platform and the reference EPOS."""
    async def setup(stack: AsyncExitStack) -> dict[str, str]:
        return {"platform": await serve_platform(stack, tmp_path),
                "epos": await serve_reference(stack, tmp_path, username="u", password="pw-cli-1")}

    with BackgroundServers(setup) as servers:
        yield servers


@pytest.mark.socket
def test_register_and_run_a_flow_with_a_junit_report(background: BackgroundServers,
                                                     tmp_path: Path) -> None:
    env = {"DOJO_API_URL": background.urls["platform"], "DOJO_API_KEY": KEY,
           "DOJO_SOFTWARE_HOUSE_ID": HOUSE}
    env = {**env, "EPOS_PASSWORD": "pw-cli-1"}  # the safe form: not on the command line
    rest = ["register", "rest", "--url", background.urls["epos"], "--username", "u"]
    nothing = runner.invoke(app, rest, env=env)
    assert nothing.exit_code == 2
    assert "say what to register: --handler module:MyEpos" in nothing.output
    both = runner.invoke(app, [*rest, "--reference", "--capability", "GetOrderById"], env=env)
    assert both.exit_code == 2 and "choose one of --handler, --capability and --reference" in both.output
    registered = runner.invoke(app, [*rest, "--reference"], env=env)
    assert registered.exit_code == 0, registered.output
    assert "pw-cli-1" not in registered.output
    assert registered.output.count('"name"') == 23
    shown = runner.invoke(app, ["register", "show"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "REST" in shown.output and "GetOrderById" in shown.output and "│" in shown.output
    as_json = runner.invoke(app, ["register", "show", "--json"], env=env)
    assert as_json.exit_code == 0 and "restIntegrations" in as_json.output
    listed = runner.invoke(app, ["flows", "list"], env=env)
    assert listed.exit_code == 0 and "Pay at Table" in listed.output
    report = tmp_path / "junit.xml"
    ran = runner.invoke(app, ["flows", "run", "Get Order", "--param", "orderId=ord_demo_01",
                              "--junit", str(report)], env=env)
    assert ran.exit_code == 0, ran.output
    suite = ET.parse(report).getroot()
    assert suite.get("name") == "Get Order through EPOS Data API"
    assert suite.get("failures") == "0" and int(suite.get("tests", "0")) >= 2
    missing = runner.invoke(app, ["flows", "run", "Get Order", "--param", "orderId=nope",
                                  "--wait"], env=env)
    assert missing.exit_code == 1
    flow_id = runner.invoke(app, ["flows", "run", "List Areas"], env=env).output.strip()
    status = runner.invoke(app, ["flows", "status", flow_id], env=env)
    assert "List Areas through EPOS Data API" in status.output


def test_bad_credentials_give_a_clear_error_not_a_traceback(background: BackgroundServers) -> None:
    env = {"DOJO_API_URL": background.urls["platform"], "DOJO_SOFTWARE_HOUSE_ID": HOUSE}
    result = runner.invoke(app, ["flows", "list", "--api-key", "not-a-key"], env=env)
    assert result.exit_code == 1
    assert "401" in result.output and "Traceback" not in result.output


@pytest.mark.socket
@pytest.mark.parametrize("form", ["environment", "file", "flag"])
def test_epos_serve_answers_dojo_with_basic_auth(tmp_path: Path, form: str) -> None:
    """The password from EPOS_PASSWORD or --password-file stays out of the process list; the
    --password flag still works, with a warning saying why not to use it (issue 18 item 9)."""
    import httpx

    port = free_port()
    db = f"sqlite:///{tmp_path / 'epos.sqlite3'}"
    assert runner.invoke(app, ["epos", "seed", "--db", db]).exit_code == 0
    secret_file = tmp_path / "epos-password"
    secret_file.write_text("serve-pw-1\n")
    given = {"environment": ([], {"EPOS_PASSWORD": "serve-pw-1"}),
             "file": (["--password-file", str(secret_file)], {}),
             "flag": (["--password", "serve-pw-1"], {})}[form]
    proc = spawn("epos", "serve", "--port", str(port), "--db", db, "--username", "dojo",
                 *given[0], env=given[1])
    try:
        proc.wait_for("reference EPOS (23 capabilities) over REST on", 30)
        cmdline = Path(f"/proc/{proc.proc.pid}/cmdline").read_bytes()
        assert (b"serve-pw-1" in cmdline) == (form == "flag")
        warned = "puts the password in the process list" in "".join(proc.lines)
        assert warned == (form == "flag"), "".join(proc.lines)
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/healthz", 5)
        assert httpx.get(f"{base}/v1/areas").status_code == 401
        areas = httpx.get(f"{base}/v1/areas", auth=("dojo", "serve-pw-1"))
        assert areas.status_code == 200 and len(areas.json()) == 3
    finally:
        proc.stop()
    assert "serve-pw-1" not in "".join(proc.lines)


def test_epos_serve_without_a_password_says_where_to_put_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["epos", "serve", "--username", "dojo", "--db",
                                 f"sqlite:///{tmp_path / 'e.sqlite3'}"], env={"EPOS_PASSWORD": ""})
    assert result.exit_code == 2
    assert "EPOS_PASSWORD" in result.output and "--password-file" in result.output


@pytest.mark.socket
def test_epos_connect_reports_a_refused_key_clearly(background: BackgroundServers,
                                                    tmp_path: Path) -> None:
    """Go-live checklist, first scenario: an invalid key is reported as an auth failure."""
    ws_url = background.urls["platform"].replace("http://", "ws://") + "/epos"
    proc = spawn("epos", "connect", "--url", ws_url, "--api-key", "sk_live_wrong_kind_1234",
                 "--software-house-id", HOUSE, "--db", f"sqlite:///{tmp_path / 'e.sqlite3'}")
    try:
        proc.wait_for("authorization refused by the platform (HTTP 401)", 30)
    finally:
        proc.stop()
    assert "sk_live_wrong_kind_1234" not in "".join(proc.lines)


@pytest.mark.socket
def test_epos_connect_connects_and_answers(background: BackgroundServers, tmp_path: Path) -> None:
    ws_url = background.urls["platform"].replace("http://", "ws://") + "/epos"
    proc = spawn("epos", "connect", "--url", ws_url, "--api-key", KEY,
                 "--software-house-id", HOUSE, "--db", f"sqlite:///{tmp_path / 'e.sqlite3'}")
    try:
        proc.wait_for("connector connected", 30)
    finally:
        code = proc.stop()
    assert code in (0, 130)
    assert KEY not in "".join(proc.lines)
