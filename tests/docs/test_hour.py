"""The whole hour of "Your first EPOS", played as a user, all through the CLI as separate processes.

The guide's ``<!-- hour -->`` shell blocks are the script: the handler module is written from the
guide into an empty folder, then every command runs as the guide shows it (``&`` in the
background), with two changes only: ports 8000 and 8080 become free ones, and ``dojo-epos`` is this
checkout's. The platform is served, the handler served over REST and connected over the WebSocket
by ``--handler``, registered by ``--handler`` on both transports, flows run, and the results read:
the command output and the JUnit report.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.docs.doccheck import ROOT, shell_lines
from tests.processes import DOJO_EPOS, Background, clean_env, free_port, spawn, wait_for_http

GUIDE = ROOT / "docs" / "first-epos.md"
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


def test_the_hour_from_the_guide(tmp_path: Path) -> None:
    text = GUIDE.read_text()
    (tmp_path / "myepos.py").write_text(handler_module(text))
    ports = {"8000": str(free_port()), "8080": str(free_port())}
    env = clean_env()
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
                job = spawn(*tokens[1:-1], env=env, cwd=tmp_path)
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
