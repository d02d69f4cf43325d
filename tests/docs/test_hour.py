"""The whole hour of "Your first EPOS", played as a user, all through the CLI as separate processes.

The guide's ``<!-- hour -->`` shell blocks are the script: the handler module is written from the
guide into an empty folder, then every command runs as the guide shows it (``&`` in the
background), with two changes only: ports 8000 and 8080 become free ones, and ``dojo-epos`` is this
checkout's. The platform is served, the handler served over REST and connected over the WebSocket
by ``--handler``, registered by ``--handler`` on both transports, flows run, and the results read:
the command output and the JUnit report.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.docs.doccheck import ROOT, shell_lines

GUIDE = ROOT / "docs" / "first-epos.md"
DOJO_EPOS = str(Path(sys.executable).parent / "dojo-epos")
READY = {("platform", "serve"): None, ("epos", "serve"): "over REST on",
         ("epos", "connect"): "connector connected"}

pytestmark = [pytest.mark.socket]


def hour_commands(text: str) -> list[list[str]]:
    """The commands of the guide's ``<!-- hour -->`` blocks, in order."""
    blocks = re.findall(r"<!-- hour -->\n```sh\n(.*?)```", text, re.DOTALL)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            tokens = list(shell_lines(line))
            if tokens:
                commands.append([*tokens[0], "&"] if line.rstrip().endswith("&") else tokens[0])
    return commands


def handler_module(text: str) -> str:
    return text.partition("<!-- file: myepos.py -->\n```python\n")[2].partition("```\n")[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Background:
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never printed {text!r}:\n{''.join(self.lines)}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.reader.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


def test_the_hour_from_the_guide(tmp_path: Path) -> None:
    text = GUIDE.read_text()
    (tmp_path / "myepos.py").write_text(handler_module(text))
    ports = {"8000": str(free_port()), "8080": str(free_port())}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOJO_", "EPOS_", "PLATFORM_"))}
    env["COLUMNS"] = "200"
    background: list[Background] = []
    transcript: list[str] = []
    outputs: dict[str, str] = {}
    try:
        for tokens in hour_commands(text):
            tokens = [re.sub(r"\b(8000|8080)\b", lambda m: ports[m.group(1)], t) for t in tokens]
            line = shlex.join(tokens)
            transcript.append(f"$ {line}")
            if tokens[0] == "export":
                name, _, value = tokens[1].partition("=")
                env[name] = value
                continue
            assert tokens[0] == "dojo-epos", line
            argv = [DOJO_EPOS, *tokens[1:]]
            if argv[-1] == "&":
                proc = subprocess.Popen(argv[:-1], cwd=tmp_path, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                job = Background(proc)
                background.append(job)
                ready = READY[(tokens[1], tokens[2])]
                if ready is None:
                    wait_for_http(f"http://127.0.0.1:{ports['8000']}/healthz")
                else:
                    job.wait_for(ready)
                transcript.append("".join(job.lines).rstrip())
                continue
            done = subprocess.run(argv, cwd=tmp_path, env=env, text=True, capture_output=True, timeout=180)
            outputs[line] = done.stdout + done.stderr
            transcript.append(outputs[line].rstrip())
            assert done.returncode == 0, "\n".join(transcript)
    finally:
        for job in reversed(background):
            job.stop()
        print("\n".join(transcript))
    logs = "".join(line for job in background for line in job.lines)

    # What the user reads: the handler served, connected and registered by import string...
    assert "myepos:MyEpos (4 capabilities: SearchOrders, GetOrderById, RecordOrderPayment, ListAreas) " \
           f"over REST on http://127.0.0.1:{ports['8080']}/v1" in logs
    assert f"connector connected to ws://127.0.0.1:{ports['8000']}/epos" in logs
    shown = next(out for cmd, out in outputs.items() if cmd.endswith("register show"))
    for transport in ("REST", "WebSocket"):
        assert sum(row.split()[1:2] == [transport] for row in shown.splitlines()) == 4, shown
    # ...the flows ran and succeeded, and the JUnit report says so.
    get_order = next(out for cmd, out in outputs.items() if "'Get Order'" in cmd)
    assert "Get Order through EPOS Data API: SUCCESS" in get_order, get_order
    report = ET.parse(tmp_path / "pay-at-table.xml").getroot()
    assert report.get("name") == "Pay at Table through EPOS Data API"
    assert report.get("failures") == "0" and report.get("errors") == "0"
    assert int(report.get("tests", "0")) >= 5
    # Secrets stay out of what was printed.
    assert "choose-a-password" not in logs + "".join(outputs.values())
    assert "sk_sandbox_my_first_epos_0001" not in logs
