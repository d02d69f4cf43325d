"""What the command line says when something is wrong, run as a stranger runs it: separate processes.

One local platform (``dojo-epos platform serve``) serves the module; each case runs ``dojo-epos``
with a mistake in it and checks the exit code and the sentence, never a traceback, never the key.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import DOJO_EPOS, free_port, spawn, wait_for_http
from tests.processes import clean_env as base_env

pytestmark = pytest.mark.socket

KEY = "sk_sandbox_cli_errors_0001"
HANDLER = '''
from dojo_epos import EposHandler, models

class Tiny(EposHandler):
    async def list_areas(self, params, ctx):
        return models.AreaList([])
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-errors")
    (path / "tinyepos.py").write_text(HANDLER)
    return path


def clean_env(**extra: str) -> dict[str, str]:
    return base_env(**{"DOJO_API_KEY": KEY, "DOJO_SOFTWARE_HOUSE_ID": "house", **extra})


@pytest.fixture(scope="module")
def platform(folder: Path) -> Iterator[str]:
    """The local platform in its own process; yields its port."""
    port = str(free_port())
    job = spawn("platform", "serve", "--port", port, cwd=folder, env=clean_env())
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        yield port
    finally:
        job.stop()


def dojo_epos(folder: Path, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DOJO_EPOS, *args], cwd=folder, env=clean_env(**env), text=True,
                          capture_output=True, timeout=timeout)


def said(result: subprocess.CompletedProcess[str]) -> str:
    text = result.stdout + result.stderr
    assert "Traceback" not in text and KEY not in text, text
    return text


def test_a_platform_that_is_not_there_is_named_with_a_hint(folder: Path) -> None:
    port = free_port()
    result = dojo_epos(folder, "register", "show", DOJO_API_URL=f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    assert said(result).startswith(
        f"error: cannot reach http://127.0.0.1:{port}/epos/integrations (ConnectError: ")
    assert "is `dojo-epos platform serve` running there? For the local platform set " \
           "DOJO_API_URL=http://127.0.0.1:8000" in said(result)


def test_a_wrong_api_base_path_says_the_base_url_has_no_path(folder: Path, platform: str) -> None:
    result = dojo_epos(folder, "flows", "list", DOJO_API_URL=f"http://127.0.0.1:{platform}/epos")
    assert result.returncode == 1
    assert f"HTTP 404 from http://127.0.0.1:{platform}/epos/epos-tester-tool/flows" in said(result)
    assert "the API base URL has no path" in said(result)


def test_register_without_a_choice_refuses_and_says_how(folder: Path, platform: str) -> None:
    result = dojo_epos(folder, "register", "ws", DOJO_API_URL=f"http://127.0.0.1:{platform}")
    assert result.returncode == 2
    assert "say what to register: --handler module:MyEpos" in said(result)
    bad = dojo_epos(folder, "register", "ws", "--handler", "tinyepos:Nope",
                    DOJO_API_URL=f"http://127.0.0.1:{platform}")
    assert bad.returncode == 2 and "module 'tinyepos' has no attribute 'Nope'" in said(bad)


def test_register_with_a_handler_registers_exactly_what_it_offers(folder: Path, platform: str) -> None:
    api = f"http://127.0.0.1:{platform}"
    result = dojo_epos(folder, "register", "ws", "--handler", "tinyepos:Tiny", DOJO_API_URL=api)
    assert result.returncode == 0, said(result)
    assert [c["name"] for c in json.loads(result.stdout)[0]["capabilities"]] == ["ListAreas"]
    shown = dojo_epos(folder, "register", "show", DOJO_API_URL=api)
    rows = [line for line in shown.stdout.splitlines() if "WebSocket" in line]
    assert len(rows) == 1 and "ListAreas" in rows[0]


@pytest.mark.parametrize(("url", "key", "words"), [
    ("ws://127.0.0.1:{port}/wrong", KEY,
     "error: gave up after 2 refused attempt(s): no WebSocket endpoint at ws://127.0.0.1:{port}/wrong "
     "(HTTP 403): the WebSocket endpoint is /epos"),
    ("ws://127.0.0.1:{port}/epos", "sk_live_not_a_dojo_key_01",
     "error: gave up after 2 refused attempt(s): authorization refused by the platform (HTTP 401): "
     "check the API key"),
    ("wss://127.0.0.1:{port}/epos", KEY,
     "error: gave up after 2 refused attempt(s): TLS handshake with wss://127.0.0.1:{port}/epos failed"),
])
def test_connect_names_the_refusal_and_exits_1_after_max_refusals(
    folder: Path, platform: str, url: str, key: str, words: str
) -> None:
    result = dojo_epos(folder, "epos", "connect", "--handler", "tinyepos:Tiny", "--max-refusals", "2",
                       "--url", url.format(port=platform), DOJO_API_KEY=key)
    assert result.returncode == 1, said(result)
    assert words.format(port=platform) in said(result)
    assert key not in result.stderr


def test_connect_to_a_platform_that_is_not_there_names_it_and_keeps_trying(folder: Path) -> None:
    port = free_port()
    job = spawn("epos", "connect", "--handler", "tinyepos:Tiny", "--log-format", "json",
                "--url", f"ws://127.0.0.1:{port}/epos", cwd=folder, env=clean_env())
    try:
        job.wait_for('"message": "connector reconnecting in')
        job.wait_for('"message": "connector connecting to')
    finally:
        job.stop()
    records = [json.loads(line) for line in job.lines if line.startswith("{")]
    failed = [r for r in records if r["message"].startswith("connector failed")]
    assert failed[0]["level"] == "warning"
    assert failed[0]["message"].startswith(f"connector failed: cannot reach ws://127.0.0.1:{port}/epos")
    assert "For the local platform set DOJO_WS_URL=ws://127.0.0.1:8000/epos" in failed[0]["message"]
    assert KEY not in "".join(job.lines)


def test_sigterm_stops_a_connected_epos_cleanly(folder: Path, platform: str) -> None:
    """What systemd or Docker sends: the connector stops (requests in flight get their grace), exit 143."""
    import signal

    job = spawn("epos", "connect", "--handler", "tinyepos:Tiny",
                "--url", f"ws://127.0.0.1:{platform}/epos", cwd=folder, env=clean_env())
    job.wait_for("connector connected")
    job.proc.send_signal(signal.SIGTERM)
    assert job.proc.wait(30) == 143
    job.stop()
    output = "".join(job.lines)
    assert "connector stopped" in output and "stopped (SIGTERM)" in output
    assert "Traceback" not in output
