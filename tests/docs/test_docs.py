"""Every code block in README.md and docs/ runs (tests/docs/doccheck.py says how)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dojo_epos.codegen import capability_table, replace_table
from tests.docs.doccheck import EVALUATED, LANGUAGES, ROOT, SYBIL, check_command, documents, fence_languages

EXAMPLE = ROOT / "examples" / "myepos.py"
GUIDE = ROOT / "docs" / "first-epos.md"


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_code_block_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a block that writes files writes them here
    languages = fence_languages(path.read_text())
    assert set(languages) <= LANGUAGES, f"{path.name}: blocks in {set(languages) - LANGUAGES}"
    document = SYBIL.parse(path)
    examples = list(document)
    assert len(examples) == sum(lang in EVALUATED for lang in languages), "a block was not parsed"
    for example in examples:
        example.evaluate()


def test_the_shell_checker_catches_a_renamed_option_or_command() -> None:
    assert check_command(["dojo-epos", "epos", "serve", "--handler", "m:X"]) is None
    assert "no option --handlr" in (check_command(["dojo-epos", "epos", "serve", "--handlr", "m:X"]) or "")
    assert "no command" in (check_command(["dojo-epos", "epos", "srve"]) or "")
    assert "command group" in (check_command(["dojo-epos", "register"]) or "")
    assert "Makefile target" in (check_command(["make", "nope"]) or "")
    assert "does not know" in (check_command(["curl", "x"]) or "")
    assert "no option --prot" in (check_command(["dist/dojo-epos", "platform", "serve", "--prot", "1"]) or "")
    node_suite = ["node", "--test", "examples/node/pay-at-table.test.mjs"]
    assert check_command(["DOJO_EPOS=dist/dojo-epos", *node_suite]) is None
    assert "not a file" in (check_command(["node", "--test", "examples/node/nope.test.mjs"]) or "")
    assert check_command(["docker", "run", "-p", "8000:8000", "dojo-epos", "platform", "serve"]) is None
    assert "no command" in (check_command(["docker", "run", "dojo-epos:1", "platfrom", "serve"]) or "")
    assert "knows docker build" in (check_command(["docker", "exec", "x"]) or "")


def test_the_guide_shows_the_example_verbatim() -> None:
    """The handler in "Your first EPOS" is examples/myepos.py, so the example cannot drift."""
    text = GUIDE.read_text()
    head, _, rest = text.partition("<!-- file: myepos.py -->\n```python\n")
    block, _, _ = rest.partition("```\n")
    assert block == EXAMPLE.read_text()


def test_the_capability_table_is_the_catalogue() -> None:
    text = GUIDE.read_text()
    assert capability_table() in text
    assert replace_table(text) == text, "docs/first-epos.md's table is stale: python -m dojo_epos.codegen"


def test_the_codegen_rewrites_what_drifted(tmp_path: Path) -> None:
    (tmp_path / "src/dojo_epos").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    stale = GUIDE.read_text().replace("`get_order_by_id`", "`get_order`")
    (tmp_path / "docs/first-epos.md").write_text(stale)
    assert replace_table(stale) != stale
    from dojo_epos.codegen import main

    assert main([str(tmp_path)]) == 0
    assert (tmp_path / "docs/first-epos.md").read_text() == GUIDE.read_text()
    assert os.path.getsize(tmp_path / "src/dojo_epos/testing_calls.py") > 0
