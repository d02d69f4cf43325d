"""The single-file build for tests: ``make onefile`` (cached, see freeze/build_onefile.py) once."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "dist" / "dojo-epos"


def build_onefile() -> Path:
    """``make onefile``: dist/dojo-epos, built or copied from the cache; a failed build fails the test."""
    made = subprocess.run(["make", "--no-print-directory", "onefile"], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, check=False)
    assert made.returncode == 0, f"make onefile failed:\n{made.stdout}\n{made.stderr}"
    assert BUILT.is_file(), made.stdout
    return BUILT
