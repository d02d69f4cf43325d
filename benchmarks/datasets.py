"""The databases the benchmarks read: seeded SQLite files kept between runs, fresh PostgreSQL ones.

Seeding a million orders takes about a minute on SQLite, so the seeded files are cached under
``data/bench/`` (git-ignored), named by order count, the reference schema version and a digest of
the seeder's source: change either and the cache is rebuilt rather than misread. A bigger file is
grown from the biggest smaller one already cached (seeding only adds what is missing).

A file just seeded is in the OS page cache; one reused from the cache may not be (the OS drops it
whenever it likes: memory pressure, another run's files, ``drop_caches``). A random read of a page
not in the OS cache goes to the disk (about 70 us here, against 3 us), so :func:`read_through` reads
a file once before it is measured: every run then measures the database, not what the OS last did.

PostgreSQL gets a database of its own per run (``dojo_epos_bench_<random>``), dropped afterwards,
so a benchmark never touches anyone else's data. The server is found through ``DOJO_EPOS_PG_URL``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from dojo_epos.epos.reference import seed as seed_module
from dojo_epos.epos.reference.schema import SCHEMA_VERSION
from dojo_epos.epos.reference.seed import HISTORY_PREFIX, seed

__all__ = [
    "PG_URL_DEFAULT",
    "PostgresDatabases",
    "PostgresUnavailable",
    "fresh_postgres",
    "history_id",
    "pg_url",
    "read_through",
    "seeded_sqlite",
    "sqlite_url",
]

PG_URL_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def history_id(n: int) -> str:
    """The id the seeder gives the ``n``-th history order."""
    return f"{HISTORY_PREFIX}{n:08d}"


def _seed_tag() -> str:
    source = Path(seed_module.__file__ or "").read_bytes()
    return hashlib.sha256(source).hexdigest()[:8]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _cached_name(orders: int) -> str:
    return f"epos-{orders}-s{SCHEMA_VERSION}-{_seed_tag()}.sqlite3"


async def seeded_sqlite(cache_dir: Path, orders: int) -> tuple[Path, bool]:
    """A SQLite file seeded with ``orders`` history orders, and whether it came from the cache."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / _cached_name(orders)
    if path.exists():
        return path, True
    partial = path.with_name(path.name + ".partial")
    for stale in cache_dir.glob(partial.name + "*"):
        stale.unlink()
    smaller = [n for n in _cached_sizes(cache_dir) if n < orders]
    if smaller:
        shutil.copyfile(cache_dir / _cached_name(max(smaller)), partial)
    await seed(sqlite_url(partial), orders=orders)
    # Closing the last connection checkpoints the WAL into the file, so the file stands alone.
    partial.replace(path)
    return path, False


def read_through(path: Path) -> float:
    """Read the whole file once (into the OS page cache); the seconds it took.

    Seconds near zero mean the file was in the OS cache already; a cold file reads at disk speed.
    """
    began = time.perf_counter()
    with path.open("rb", buffering=0) as f:
        while f.read(1 << 20):
            pass
    return time.perf_counter() - began


def _cached_sizes(cache_dir: Path) -> list[int]:
    sizes = []
    suffix = _cached_name(0)[len("epos-0"):]
    for found in cache_dir.glob("epos-*" + suffix):
        count = found.name[len("epos-"):-len(suffix)]
        if count.isdigit():
            sizes.append(int(count))
    return sizes


def pg_url() -> str:
    """The PostgreSQL server to use (``DOJO_EPOS_PG_URL``)."""
    return os.environ.get("DOJO_EPOS_PG_URL", PG_URL_DEFAULT)


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server cannot be reached (its part of the benchmark is skipped)."""


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresDatabases:
    """Databases of our own on the PostgreSQL server: created on demand, all dropped on exit."""

    def __init__(self, admin: Any, base: URL) -> None:
        self._admin = admin
        self._base = base
        self.names: list[str] = []

    async def create(self, template: str | None = None) -> str:
        """A new database (empty, or a copy of the database at URL ``template``); its URL.

        A template must have no open connections (PostgreSQL copies it file by file).
        """
        name = f"dojo_epos_bench_{uuid.uuid4().hex[:10]}"
        clause = f' TEMPLATE "{make_url(template).database}"' if template else ""
        await self._admin.execute(f'CREATE DATABASE "{name}"{clause}')
        self.names.append(name)
        return self._base.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False)


@asynccontextmanager
async def fresh_postgres(base_url: str | None = None) -> AsyncIterator[PostgresDatabases]:
    """Create databases with :meth:`PostgresDatabases.create`; every one is dropped on exit."""
    import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

    base = make_url(base_url or pg_url())
    try:
        admin = await asyncpg.connect(_asyncpg_dsn(base.render_as_string(False)), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise PostgresUnavailable(f"{base.host}:{base.port}: {type(exc).__name__}: {exc}") from exc
    databases = PostgresDatabases(admin, base)
    try:
        yield databases
    finally:
        try:
            for name in databases.names:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
