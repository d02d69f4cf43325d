"""examples/node: a Node test suite (node:test, fetch, child_process; no npm package) that starts the
local platform with ``dojo-epos platform serve``, registers a Node EPOS, runs Pay at Table and reads
the run's JUnit report. Run here as CI runs it: ``node --test`` in a process of its own."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.docs.doccheck import ROOT
from tests.processes import DOJO_EPOS, clean_env

SUITE = ROOT / "examples" / "node" / "pay-at-table.test.mjs"

pytestmark = pytest.mark.socket


def test_the_node_suite_certifies_its_epos_against_the_local_platform(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on the PATH (the example needs Node 20 or later)")
    ran = subprocess.run([node, "--test", str(SUITE)], cwd=ROOT,
                         env=clean_env(DOJO_EPOS=DOJO_EPOS, TMPDIR=str(tmp_path)),
                         capture_output=True, text=True, timeout=180, check=False)
    print(ran.stdout, ran.stderr)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert re.search(r"^# pass 3$", ran.stdout, re.MULTILINE), ran.stdout
    assert re.search(r"^# fail 0$", ran.stdout, re.MULTILINE), ran.stdout
    steps = re.findall(r"^#\s+(SUCCESS|FAILURE)\s+(.+)$", ran.stdout, re.MULTILINE)
    assert len(steps) >= 10 and {status for status, _ in steps} == {"SUCCESS"}, steps
    assert re.search(r'<testsuite name="Pay at Table[^"]*" tests="\d+" failures="0"', ran.stdout)
    assert not list(tmp_path.glob("dojo-platform-*")), "the suite's teardown leaves no platform folder"


@pytest.mark.slow
def test_the_node_suite_fails_when_its_epos_breaks_a_rule(tmp_path: Path) -> None:
    """The suite is not a rubber stamp: an EPOS that counts a retried payment twice fails it."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on the PATH (the example needs Node 20 or later)")
    broken = ROOT / "examples" / "node"
    copy = tmp_path / "node"
    shutil.copytree(broken, copy)
    epos = copy / "epos.mjs"
    source = epos.read_text()
    retry = "if (JSON.stringify(known) === JSON.stringify(payment)) return this.wire(order); // a retry"
    assert retry in source
    epos.write_text(source.replace(retry, "if (false) return this.wire(order);"))
    ran = subprocess.run([node, "--test", str(copy / SUITE.name)], cwd=copy,
                         env=clean_env(DOJO_EPOS=DOJO_EPOS), capture_output=True, text=True,
                         timeout=180, check=False)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert re.search(r"^# fail [12]$", ran.stdout, re.MULTILINE), ran.stdout
    assert "FAILURE" in ran.stdout


def test_the_page_shows_the_suite_verbatim() -> None:
    """docs/other-languages.md shows examples/node/pay-at-table.test.mjs as it is, so it cannot drift."""
    text = (ROOT / "docs" / "other-languages.md").read_text()
    _, _, rest = text.partition("<!-- file: examples/node/pay-at-table.test.mjs -->\n```js\n")
    block, _, _ = rest.partition("```\n")
    assert block == SUITE.read_text()
