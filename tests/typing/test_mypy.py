"""mypy --strict on user-style code: the typed test client returns the capability's own models.

``user_code.py`` must pass; the same code with one wrong ``assert_type`` must fail, so this check
cannot pass by checking nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
USER_CODE = HERE / "user_code.py"



def mypy(path: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(cache),
         "--config-file", "/dev/null", str(path)],
        capture_output=True, text=True, cwd=HERE.parents[1], timeout=300)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def test_user_code_type_checks_under_strict(cache: Path) -> None:
    result = mypy(USER_CODE, cache)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("right", "wrong"), [
    ("assert_type(order, models.Order)", "assert_type(order, models.Party)"),
    ("assert_type(await client.list_areas(), models.AreaList)",
     "assert_type(await client.list_areas(), models.PagedTablesResponse)"),
])
def test_a_wrong_type_fails_the_check(cache: Path, tmp_path: Path, right: str, wrong: str) -> None:
    source = USER_CODE.read_text()
    assert right in source
    broken = tmp_path / "user_code_broken.py"
    broken.write_text(source.replace(right, wrong))
    result = mypy(broken, cache)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "assert-type" in result.stdout or "assert_type" in result.stdout, result.stdout
