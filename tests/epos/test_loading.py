"""--handler import strings: a class, an instance, a factory (sync or async), and clear mistakes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dojo_epos import EposHandler
from dojo_epos.epos.loading import HandlerLoadError, close_handler, load_handler

MODULE = '''
from dojo_epos import EposHandler, models

class Mine(EposHandler):
    closed = False
    async def list_areas(self, params, ctx):
        return models.AreaList([])
    async def aclose(self):
        type(self).closed = True

instance = Mine()

def factory():
    return Mine()

async def async_factory():
    return Mine()

class NotAHandler:
    pass

def wrong_factory():
    return 42

def needs_args(x):
    return Mine()

namespace = type("NS", (), {"inner": Mine})
number = 7
'''


@pytest.fixture
def in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module in the current folder, importable as a user's would be."""
    name = f"user_epos_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield name
    sys.modules.pop(name, None)


@pytest.mark.parametrize("attr", ["Mine", "instance", "factory", "async_factory", "namespace.inner"])
async def test_a_class_instance_or_factory_gives_a_handler(in_cwd: str, attr: str) -> None:
    handler = await load_handler(f"{in_cwd}:{attr}")
    assert isinstance(handler, EposHandler)
    assert [c.name for c in handler.offered_capabilities()] == ["ListAreas"]
    await close_handler(handler)
    assert type(handler).closed is True  # type: ignore[attr-defined]


@pytest.mark.parametrize(("spec", "words"), [
    ("{m}", "--handler takes 'module:attribute'"),
    ("{m}:", "--handler takes 'module:attribute'"),
    ("no_such_module_xyz:X", "cannot import module 'no_such_module_xyz'"),
    ("{m}:Missing", "has no attribute 'Missing'"),
    ("{m}:NotAHandler", "is a class, but not a subclass of dojo_epos.EposHandler"),
    ("{m}:wrong_factory", "returned a int, not an EposHandler"),
    ("{m}:needs_args", "it must take no arguments"),
    ("{m}:number", "is a int, not an EposHandler"),
])
async def test_mistakes_say_what_is_wrong(in_cwd: str, spec: str, words: str) -> None:
    with pytest.raises(HandlerLoadError, match=None) as info:
        await load_handler(spec.format(m=in_cwd))
    assert words in str(info.value)


async def test_an_import_error_inside_the_module_is_not_hidden(in_cwd: str, tmp_path: Path) -> None:
    (tmp_path / "broken_epos_mod.py").write_text("import not_installed_dependency_xyz\n")
    with pytest.raises(HandlerLoadError, match="importing 'broken_epos_mod' failed: No module named"):
        await load_handler("broken_epos_mod:X")
    sys.modules.pop("broken_epos_mod", None)
