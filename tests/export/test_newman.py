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


def install_newman() -> subprocess.Popen[str] | None:
    """Start installing newman from npm into build/newman, unless it is there (then reused)."""
    if NEWMAN.exists():
        return None
    NEWMAN_DIR.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        ["npm", "install", "--prefix", str(NEWMAN_DIR), "--no-audit", "--no-fund", "--loglevel",
         "error", f"newman@{NEWMAN_VERSION}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _start(*args: str, env: dict[str, str]) -> Background:
    proc = subprocess.Popen([DOJO_EPOS, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=clean_env(**env))
    return Background(proc)


def _finish(proc: subprocess.Popen[str], what: str) -> None:
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"{what} failed:\n{out}"


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    """A seeded reference EPOS and a local platform, each its own process on a free port, and
    both collections written by ``dojo-epos export postman``. Started side by side (each process
    spends seconds importing; newman's npm install too, the first time), the EPOS as soon as its
    seed is done."""
    tmp = tmp_path_factory.mktemp("newman")
    out = tmp / "collections"
    epos_db = f"sqlite:///{tmp / 'epos.sqlite3'}"
    epos_port, platform_port = free_port(), free_port()
    platform = _start("platform", "serve", "--port", str(platform_port), "--db",
                      f"sqlite:///{tmp / 'platform.sqlite3'}", "--log-level", "warning", env={})
    export_args = ["export", "postman", "--out", str(out)]
    if specs_available():
        export_args += ["--specs", str(SPECS_DIR)]
    side = {what: subprocess.Popen([DOJO_EPOS, *args], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, env=clean_env())
            for what, args in (("seed", ["epos", "seed", "--db", epos_db]),
                               ("export", export_args))}
    if (npm := install_newman()) is not None:
        side["npm install newman"] = npm
    epos = None
    try:
        _finish(side["seed"], "dojo-epos epos seed")
        epos = _start("epos", "serve", "--port", str(epos_port), "--db", epos_db, "--username",
                      "dojo", env={"EPOS_PASSWORD": PASSWORD})
        _finish(side["export"], "dojo-epos export postman")
        urls = {"epos": f"http://127.0.0.1:{epos_port}",
                "platform": f"http://127.0.0.1:{platform_port}"}
        wait_for_http(urls["epos"] + "/healthz")
        wait_for_http(urls["platform"] + "/healthz")
        if npm is not None:
            _finish(npm, "npm install newman")
        yield urls, out
    finally:
        for proc in side.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        for process in (platform, epos):
            if process is not None:
                process.stop()


def run_newman(collection: Path, variables: dict[str, str], report: Path) -> dict[str, Any]:
    """Run one collection; print newman's own summary table; the JSON report's ``run``."""
    args = [str(NEWMAN), "run", str(collection), "--reporters", "cli,json",
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
        rig: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    servers, collections = rig
    collection = collections / EPOS_FILE
    run = run_newman(collection, {"baseUrl": servers["epos"], "username": "dojo",
                                  "password": PASSWORD}, tmp_path / "epos.json")
    stats = run["stats"]
    assert stats["requests"]["total"] == len(EPOS_SCENARIO) == _request_count(collection)
    assert stats["requests"]["failed"] == 0
    assert stats["assertions"]["failed"] == 0 and stats["assertions"]["total"] >= len(EPOS_SCENARIO)


def test_newman_runs_the_platform_collection_against_the_local_platform(
        rig: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    servers, collections = rig
    collection = collections / PLATFORM_FILE
    run = run_newman(collection, {"baseUrl": servers["platform"], "apiKey": KEY,
                                  "softwareHouseId": "newman-house", "eposUrl": servers["epos"],
                                  "eposUsername": "dojo", "eposPassword": PASSWORD},
                     tmp_path / "platform.json")
    stats = run["stats"]
    assert stats["requests"]["total"] == _request_count(collection) >= 25
    assert stats["assertions"]["failed"] == 0
