"""The examples of docs/payments.md run: the Python one as is, the Node verifier under ``node``.

The Node verifier is given deliveries signed by the platform's signer (``dojo_epos.webhooks``): good
ones, a tampered body, a wrong secret, a stale timestamp and a malformed header.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from dojo_epos.webhooks import signature_header

DOC = Path(__file__).resolve().parents[2] / "docs" / "payments.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_python_example_runs() -> None:
    (code,) = blocks("python")
    exec(compile(code, str(DOC), "exec"), {})  # our own documentation


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_node_verifier_agrees_with_the_platforms_signer(tmp_path: Path) -> None:
    (code,) = blocks("js")
    body = '{"id":"evt_1","event":"payment_intent.status_updated","data":{"paymentIntentId":"pi_1"}}'
    now = int(time.time())
    cases = [
        (body, signature_header("s3cret", body.encode()), ["s3cret"], True),
        (body, signature_header("s3cret", body.encode()), ["old", "s3cret"], True),
        (body + " ", signature_header("s3cret", body.encode()), ["s3cret"], False),
        (body, signature_header("s3cret", body.encode()), ["wrong"], False),
        (body, signature_header("s3cret", body.encode(), timestamp=now - 3600), ["s3cret"], False),
        (body, "t=abc,v1=00", ["s3cret"], False),
        (body, "", ["s3cret"], False),
    ]
    (tmp_path / "verify.js").write_text(code, encoding="utf-8")
    harness = (
        'const { verifyDojoSignature } = require("./verify.js");\n'
        f"const cases = {json.dumps([c[:3] for c in cases])};\n"
        "console.log(JSON.stringify(cases.map(([b, h, s]) => "
        "verifyDojoSignature(Buffer.from(b, 'utf8'), h, s))));\n")
    (tmp_path / "run.js").write_text(harness, encoding="utf-8")
    done = subprocess.run(["node", "run.js"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [c[3] for c in cases]
