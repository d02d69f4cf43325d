"""The store's small public API that the tester builds on: flow results, URLs, call log."""

from __future__ import annotations

import pytest

from dojo_epos.platform import Platform, PlatformSettings
from dojo_epos.platform.store import async_url
from tests.platform.conftest import scope_of


async def test_flow_results_round_trip_are_replaced_and_scoped(platform: Platform) -> None:
    """save_flow_result replaces; another scope never sees it; unknown ids are None."""
    store = platform.store
    await store.save_flow_result(scope_of(), "flow-1", {"status": "IN_PROGRESS", "steps": []})
    await store.save_flow_result(scope_of(), "flow-1", {"status": "SUCCESS", "steps": [1]})
    await store.save_flow_result(scope_of(), "flow-2", ["any", "json"])
    assert await store.get_flow_result(scope_of(), "flow-1") == {"status": "SUCCESS",
                                                                 "steps": [1]}
    assert await store.get_flow_result(scope_of(software_house="x"), "flow-1") is None
    assert await store.get_flow_result(scope_of(), "nope") is None
    assert set(await store.flow_ids(scope_of())) == {"flow-1", "flow-2"}


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///data/p.db", "sqlite+aiosqlite:///data/p.db"),
    ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
])
def test_plain_database_urls_get_the_async_driver(url: str, expected: str) -> None:
    """The CLI's --db takes the URL people write; the store picks the async driver."""
    assert async_url(url) == expected


async def test_an_in_memory_database_works() -> None:
    """sqlite:// with no file keeps one shared connection, so tables persist between calls."""
    platform = Platform(PlatformSettings(db_url="sqlite://"))
    try:
        await platform.store.save_flow_result(scope_of(), "f", {"ok": True})
        assert await platform.store.get_flow_result(scope_of(), "f") == {"ok": True}
    finally:
        await platform.close()
