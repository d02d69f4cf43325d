"""dist/dojo-epos (``make onefile``): one file runs the platform, the reference EPOS and a flow.

Each command is the single file in a process of its own, with an empty PATH and none of our
settings in the environment, so nothing of this checkout's virtualenv (or any Python) can stand in
for what the file carries. The platform and the EPOS listen on ports the system picks.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from dojo_epos import __version__
from tests.packaging.onefile import build_onefile
from tests.processes import Background, clean_env

KEY, HOUSE, PASSWORD = "sk_sandbox_onefile_smoke_0001", "onefile-house", "onefile-password-1"

pytestmark = pytest.mark.socket


@pytest.fixture(scope="module")
def onefile() -> Path:
    return build_onefile()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    base = {k: v for k, v in clean_env().items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    return {**base, "PATH": str(empty), "DOJO_API_KEY": KEY, "DOJO_SOFTWARE_HOUSE_ID": HOUSE,
            "EPOS_PASSWORD": PASSWORD}


def run(onefile: Path, *args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run([str(onefile), *args], env=env, cwd=cwd, capture_output=True, text=True,
                         timeout=180, check=False)
    shown = ran.stdout if len(ran.stdout) < 2000 else f"{ran.stdout[:300]}... ({len(ran.stdout)} chars)\n"
    print(f"$ dojo-epos {' '.join(args)}  -> exit {ran.returncode}\n{shown}{ran.stderr}")
    return ran


@pytest.fixture
def started() -> Iterator[list[Background]]:
    """The background processes a test starts, stopped (Ctrl-C) when it ends."""
    running: list[Background] = []
    yield running
    for process in running:
        process.stop()


def start(onefile: Path, *args: str, env: dict[str, str], cwd: Path, into: list[Background],
          listening: str) -> str:
    """Start ``dojo-epos ARGS`` and wait for its "... on http://HOST:PORT" line; returns that URL."""
    proc = subprocess.Popen([str(onefile), *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    process = Background(proc)
    into.append(process)
    process.wait_for(listening, timeout=90)
    line = next(line for line in process.lines if listening in line)
    print(f"$ dojo-epos {' '.join(args)} &\n{line}", end="")
    found = re.search(r"http://[\d.]+:\d+", line)
    assert found, line
    return found.group()


def test_the_file_reports_its_version_without_python_on_the_path(onefile: Path, env: dict[str, str],
                                                                   tmp_path: Path) -> None:
    shown = run(onefile, "--version", env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert __version__ in shown.stdout


def test_platform_reference_epos_and_a_flow_each_from_the_one_file(
    onefile: Path, env: dict[str, str], tmp_path: Path, started: list[Background]
) -> None:
    platform_db, epos_db = (f"sqlite:///{tmp_path / name}" for name in ("platform.db", "epos.db"))
    platform = start(onefile, "platform", "serve", "--port", "0", "--db", platform_db, env=env,
                     cwd=tmp_path, into=started, listening="platform on http://")
    seeded = run(onefile, "epos", "seed", "--db", epos_db, env=env, cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    epos = start(onefile, "epos", "serve", "--port", "0", "--db", epos_db, "--username", "dojo",
                 env=env, cwd=tmp_path, into=started, listening="over REST on http://")
    env = {**env, "DOJO_API_URL": platform}
    registered = run(onefile, "register", "rest", "--url", epos, "--username", "dojo", "--reference",
                     env=env, cwd=tmp_path)
    assert registered.returncode == 0, registered.stderr
    assert PASSWORD not in registered.stdout + registered.stderr
    report = tmp_path / "pay-at-table.xml"
    flow = run(onefile, "flows", "run", "Pay at Table", "--wait", "--junit", str(report),
               env=env, cwd=tmp_path)
    assert flow.returncode == 0, flow.stdout + flow.stderr
    assert flow.stdout.startswith("Pay at Table through EPOS Data API: SUCCESS"), flow.stdout
    suite = ET.parse(report).getroot()
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert int(suite.get("tests", "0")) >= 10
