"""``dojo-epos faults add|list|clear`` as separate processes, against ``dojo-epos platform serve``."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import DOJO_EPOS, Background, clean_env, free_port, wait_for_http

pytestmark = pytest.mark.socket

KEY = "sk_sandbox_cli_faults_key_0001"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The local platform in its own process (SQLite in a folder of the test's own)."""
    folder = tmp_path_factory.mktemp("faults-cli")
    port = free_port()
    job = Background(subprocess.Popen(
        [DOJO_EPOS, "platform", "serve", "--port", str(port), "--db",
         f"sqlite:///{folder / 'platform.sqlite3'}"], cwd=folder, env=clean_env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        job.stop()


def faults(url: str, *args: str, house: str = "faults-house") -> subprocess.CompletedProcess[str]:
    env = clean_env(DOJO_API_KEY=KEY, DOJO_SOFTWARE_HOUSE_ID=house, DOJO_API_URL=url,
                    COLUMNS="200")
    done = subprocess.run([DOJO_EPOS, "faults", *args], env=env, text=True, capture_output=True,
                          timeout=60)
    assert "Traceback" not in done.stdout + done.stderr and KEY not in done.stdout + done.stderr
    return done


def test_faults_are_added_listed_and_cleared_from_the_command_line(url: str) -> None:
    added = faults(url, "add", "delay", "--delay", "1.5", "--capability", "GetOrderById",
                   "--times", "3")
    assert added.returncode == 0, added.stderr
    first = re.fullmatch(r"set fault (f\w+) \(delay 1\.5 s on GetOrderById\)\n", added.stdout)
    assert first, added.stdout
    second = json.loads(faults(url, "add", "close", "--close-code", "4000", "--json").stdout)
    assert second["kind"] == "close" and second["closeCode"] == 4000

    listed = faults(url, "list")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("│")[1:-1] for line in listed.stdout.splitlines() if first.group(1) in line
            or second["id"] in line]
    assert [[cell.strip() for cell in row] for row in rows] == [
        [first.group(1), "delay", "GetOrderById", "1.5 s", "3"],
        [second["id"], "close", "every call", "code 4000", "until cleared"]]
    other = faults(url, "list", "--json", house="another-house")
    assert json.loads(other.stdout) == []

    one = faults(url, "clear", first.group(1))
    assert (one.returncode, one.stdout) == (0, "cleared 1 fault\n")
    assert [f["id"] for f in json.loads(faults(url, "list", "--json").stdout)] == [second["id"]]
    every = faults(url, "clear", "--all")
    assert (every.returncode, every.stdout) == (0, "cleared 1 fault\n")
    assert faults(url, "list").stdout.startswith("no faults set")


def test_a_refused_fault_is_one_line_naming_the_field(url: str) -> None:
    refused = faults(url, "add", "close", "--close-code", "1000")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: HTTP 400 from ") and "closeCode: one of [1001, 1012, " \
        "4000]" in refused.stderr
    assert faults(url, "clear").returncode == 2  # neither an id nor --all
    unknown = faults(url, "clear", "f-nothing")
    assert unknown.returncode == 1 and "no fault f-nothing" in unknown.stderr


def test_the_help_and_the_docs_name_every_kind() -> None:
    """A new kind cannot be left out of `faults add --help` or docs/faults.md's table."""
    from dojo_epos.cli.faults import KINDS_HELP
    from dojo_epos.platform.faults import FaultKind

    table = (Path(__file__).resolve().parents[2] / "docs" / "faults.md").read_text()
    for kind in FaultKind:
        assert kind.value in KINDS_HELP, kind
        assert f"| `{kind.value}` |" in table, kind
