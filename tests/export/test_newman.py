"""newman runs both exported collections against a real local platform and a real reference EPOS.

Everything is a separate process, as a user of another language has it: ``dojo-epos epos seed``,
``dojo-epos epos serve``, ``dojo-epos platform serve``, ``dojo-epos export postman`` and newman
(installed from npm once into ``build/newman``, gitignored, then reused). Every request of both
collections must pass. Skipped, saying why, where npm is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dojo_epos.contract.examples import EPOS_SCENARIO
from dojo_epos.export import EPOS_FILE, PLATFORM_FILE
from tests.processes import DOJO_EPOS, Background, clean_env, free_port, wait_for_http
from tests.specs import SPECS_DIR, specs_available

pytestmark = [pytest.mark.socket,
              pytest.mark.skipif(shutil.which("npm") is None,
                                 reason="npm is not installed: newman (from npm) cannot run")]

REPO = Path(__file__).resolve().parents[2]
NEWMAN_DIR = REPO / "build" / "newman"
NEWMAN = NEWMAN_DIR / "node_modules" / ".bin" / "newman"
NEWMAN_VERSION = "6"
PASSWORD = "newman-epos-pw-1"
KEY = "sk_sandbox_newman_0123456789abcdef"


def ensure_newman() -> Path:
    """newman from npm in build/newman (installed on first use, then reused)."""
    if not NEWMAN.exists():
        NEWMAN_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--prefix", str(NEWMAN_DIR), "--no-audit", "--no-fund",
             "--loglevel", "error", f"newman@{NEWMAN_VERSION}"],
            capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"npm install newman failed:\n{done.stdout}\n{done.stderr}"
    return NEWMAN


def _start(*args: str, env: dict[str, str]) -> Background:
    proc = subprocess.Popen([DOJO_EPOS, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=clean_env(**env))
    return Background(proc)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A seeded reference EPOS and a local platform, each its own process on a free port."""
    tmp = tmp_path_factory.mktemp("newman")
    epos_db = f"sqlite:///{tmp / 'epos.sqlite3'}"
    seeded = subprocess.run([DOJO_EPOS, "epos", "seed", "--db", epos_db], capture_output=True,
                            text=True, env=clean_env(), timeout=120, check=False)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    epos_port, platform_port = free_port(), free_port()
    epos = _start("epos", "serve", "--port", str(epos_port), "--db", epos_db, "--username", "dojo",
                  env={"EPOS_PASSWORD": PASSWORD})
    platform = _start("platform", "serve", "--port", str(platform_port), "--db",
                      f"sqlite:///{tmp / 'platform.sqlite3'}", "--log-level", "warning", env={})
    try:
        urls = {"epos": f"http://127.0.0.1:{epos_port}",
                "platform": f"http://127.0.0.1:{platform_port}"}
        wait_for_http(urls["epos"] + "/healthz")
        wait_for_http(urls["platform"] + "/healthz")
        yield urls
    finally:
        for process in (platform, epos):
            process.stop()


@pytest.fixture(scope="module")
def collections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both collections, written by ``dojo-epos export postman`` (a separate process)."""
    out = tmp_path_factory.mktemp("collections")
    args = [DOJO_EPOS, "export", "postman", "--out", str(out)]
    if specs_available():
        args += ["--specs", str(SPECS_DIR)]
    done = subprocess.run(args, capture_output=True, text=True, env=clean_env(), timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def run_newman(collection: Path, variables: dict[str, str], report: Path) -> dict[str, Any]:
    """Run one collection; print newman's own summary table; the JSON report's ``run``."""
    args = [str(ensure_newman()), "run", str(collection), "--reporters", "cli,json",
            "--reporter-json-export", str(report), "--timeout-request", "20000", "--color", "off"]
    for key, value in variables.items():
        args += ["--env-var", f"{key}={value}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    print(done.stdout[-6000:])
    assert report.is_file(), done.stdout + done.stderr
    run: dict[str, Any] = json.loads(report.read_text())["run"]
    failures = [f"{f['source']['name']}: {f['error']['message']}" for f in run["failures"]]
    assert done.returncode == 0 and failures == [], "\n".join(failures) or done.stderr
    return run


def _request_count(collection: Path) -> int:
    def count(items: list[dict[str, Any]]) -> int:
        return sum(count(i["item"]) if "item" in i else 1 for i in items)
    return count(json.loads(collection.read_text())["item"])


def test_newman_runs_the_epos_collection_against_the_reference_epos(
        servers: dict[str, str], collections: Path, tmp_path: Path) -> None:
    collection = collections / EPOS_FILE
    run = run_newman(collection, {"baseUrl": servers["epos"], "username": "dojo",
                                  "password": PASSWORD}, tmp_path / "epos.json")
    stats = run["stats"]
    assert stats["requests"]["total"] == len(EPOS_SCENARIO) == _request_count(collection)
    assert stats["requests"]["failed"] == 0
    assert stats["assertions"]["failed"] == 0 and stats["assertions"]["total"] >= len(EPOS_SCENARIO)


def test_newman_runs_the_platform_collection_against_the_local_platform(
        servers: dict[str, str], collections: Path, tmp_path: Path) -> None:
    collection = collections / PLATFORM_FILE
    run = run_newman(collection, {"baseUrl": servers["platform"], "apiKey": KEY,
                                  "softwareHouseId": "newman-house", "eposUrl": servers["epos"],
                                  "eposUsername": "dojo", "eposPassword": PASSWORD},
                     tmp_path / "platform.json")
    stats = run["stats"]
    assert stats["requests"]["total"] == _request_count(collection) >= 25
    assert stats["assertions"]["failed"] == 0
