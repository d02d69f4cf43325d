"""freeze/build_onefile.py: the cache key follows every input, the cache is used, missing tools are named."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.packaging.onefile import ROOT


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_onefile", ROOT / "freeze" / "build_onefile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def builder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The build script pointed at a small tree of its own, its cache in tmp_path."""
    module = load()
    tree = tmp_path / "tree"
    (tree / "src" / "dojo_epos").mkdir(parents=True)
    (tree / "freeze").mkdir()
    (tree / "src" / "dojo_epos" / "cli.py").write_text("print('hi')\n")
    (tree / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tree / "freeze" / "onefile.py").write_text("main()\n")
    monkeypatch.setattr(module, "ROOT", tree)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return module


def test_the_key_changes_with_any_source_and_not_with_bytecode(builder: ModuleType) -> None:
    src = builder.ROOT / "src" / "dojo_epos"
    first = builder.cache_key()
    assert builder.cache_key() == first
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"\0")
    assert builder.cache_key() == first
    (src / "cli.py").write_text("print('changed')\n")
    changed = builder.cache_key()
    assert changed != first
    (src / "page.html").write_text("<p>")
    assert builder.cache_key() not in (first, changed)


def test_an_unchanged_tree_copies_the_cached_file(builder: ModuleType, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Path] = []

    def fake_pyinstaller(out: Path) -> None:
        built.append(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"\x7fELF" + b"x" * 1_000_000)

    monkeypatch.setattr(builder, "pyinstaller", fake_pyinstaller)
    out = tmp_path / "dist" / "dojo-epos"
    assert "built" in builder.build(out)
    shutil.rmtree(out.parent)  # a fresh clone has no dist/
    assert "from the cache" in builder.build(out)
    assert out.read_bytes().startswith(b"\x7fELF") and len(built) == 1
    (builder.ROOT / "src" / "dojo_epos" / "cli.py").write_text("print('changed')\n")
    assert "built" in builder.build(out) and len(built) == 2
    assert "built" in builder.build(out, use_cache=False) and len(built) == 3


def test_a_missing_binutils_is_named(builder: ModuleType, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder.shutil, "which", lambda tool: None)
    with pytest.raises(SystemExit, match="needs objcopy and strip .binutils."):
        builder.pyinstaller(tmp_path / "dojo-epos")


def test_the_cache_keeps_only_the_newest_builds(builder: ModuleType, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder, "pyinstaller", lambda out: out.write_bytes(b"\x7fELF"))
    monkeypatch.setattr(builder, "KEEP", 2)
    source = builder.ROOT / "src" / "dojo_epos" / "cli.py"
    keys = []
    for n in range(4):
        source.write_text(f"print({n})\n")
        keys.append(builder.cache_key())
        builder.build(tmp_path / "dojo-epos")
        stamp = 1_000_000 + n  # distinct modification times, oldest first
        os.utime(builder.cache_dir() / keys[-1], (stamp, stamp))
    builder.prune(keep=2)
    assert sorted(p.name for p in builder.cache_dir().iterdir()) == sorted(keys[2:])
