"""The models package: every name exported exists."""

from __future__ import annotations

from dojo_epos.contract import models as m


def test_everything_exported_exists() -> None:
    """``__all__`` names only real attributes."""
    missing = [name for name in m.__all__ if not hasattr(m, name)]
    assert not missing
