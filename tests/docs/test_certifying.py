"""README "Certifying your EPOS": its console session is replayed, command by command, and must match.

Each ``$`` line runs in bash (with ``dojo-epos`` on the PATH) against a local platform and a
stranger's minimal Pay at Table EPOS (plain Starlette, see ``tests/platform/tester/strangers.py``).
The lines under a command are what it must print, in order: ``…`` inside a line stands for any text,
a line that is only ``…`` for any number of lines. ``echo $?`` checks the previous command's exit code;
``export`` lines set the environment (the platform's real address replaces ``DOJO_API_URL``).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_tester_commands import platform_and_eposes
from tests.platform.tester.strangers import PASSWORD

README = Path(__file__).resolve().parents[2] / "README.md"
SHOWN_PLATFORM, SHOWN_EPOS = "http://127.0.0.1:8000", "http://127.0.0.1:9000"

pytestmark = pytest.mark.socket


def _session() -> list[tuple[str, list[str]]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Certifying your EPOS", 1)[1].split("\n## ", 1)[0]
    block = section.split("```console\n", 1)[1].split("\n```", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def _pattern(expected: list[str]) -> re.Pattern[str]:
    parts = []
    for line in expected:
        if line == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = [re.escape(" ".join(p.split())) for p in line.split("…")]
            parts.append(r"\ ?[^\n]*?\ ?".join(pieces) + r"\n")
    return re.compile("".join(parts))


def _normal(output: str, urls: dict[str, str]) -> str:
    output = output.replace(urls["platform"], SHOWN_PLATFORM).replace(urls["partial"], SHOWN_EPOS)
    return "".join(" ".join(line.split()) + "\n" for line in output.splitlines())


def test_the_readme_session_prints_what_it_shows(tmp_path: Path) -> None:
    session = _session()
    assert len(session) >= 8
    with platform_and_eposes(tmp_path) as servers:
        env = {**os.environ, "EPOS_URL": servers.urls["partial"], "EPOS_PASSWORD": PASSWORD,
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               "COLUMNS": "200"}
        last_rc: int | None = None
        for command, expected in session:
            if command.startswith("export "):
                for assignment in shlex.split(command)[1:]:
                    name, _, value = assignment.partition("=")
                    env[name] = servers.urls["platform"] if name == "DOJO_API_URL" else value
                continue
            if command == "echo $?":
                assert [str(last_rc)] == expected, f"exit code of the previous command: {last_rc}"
                continue
            ran = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True,
                                 text=True, timeout=120, check=False)
            last_rc = ran.returncode
            shown = _normal(ran.stdout, servers.urls)
            assert _pattern(expected).fullmatch(shown), (
                f"$ {command}\n--- README shows:\n" + "\n".join(expected) + "\n--- it printed:\n"
                + shown + ran.stderr)
