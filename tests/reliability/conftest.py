"""Fixtures and the end-of-run report for the reliability suite.

The report: every test adds to :data:`tests.reliability.figures.FIGURES`; at the end of the session
a table is printed and the figures are written to ``test-artifacts/reliability.json``, under the
marker expression the run used (``make test`` runs the non-slow part, ``make reliability`` the
slow part; both keep their own entry).
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import make_url

from dojo_epos.keepalive import WS_PROTOCOL
from tests.epos.reference.conftest import _admin  # one copy of the PostgreSQL admin
from tests.reliability.figures import FIGURES

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = REPO_ROOT / "test-artifacts" / "reliability.json"
PG_URL = os.environ.get("DOJO_EPOS_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the figures and record them, when any reliability test ran."""
    if not FIGURES.touched():
        return
    rows = FIGURES.rows()
    width = max(len(name) for name, _ in rows)
    terminalreporter.write_sep("=", "reliability figures")
    for name, value in rows:
        terminalreporter.write_line(f"  {name:<{width}}  {value}")
    for name, value in sorted(FIGURES.notes.items()):
        terminalreporter.write_line(f"  note: {name}: {value}")
    if FIGURES.drops:
        table = FIGURES.drop_table()
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        terminalreporter.write_line("  after a socket fault with payments in flight (seconds from "
                                    "the drop):")
        for row in table:
            terminalreporter.write_line("    " + "  ".join(f"{c:<{w}}" for c, w in zip(row, widths,
                                                                                        strict=True)))
    markexpr = config.getoption("markexpr", default="") or "all"
    record: dict[str, Any] = {}
    if ARTIFACT.is_file():
        try:
            record = json.loads(ARTIFACT.read_text())
        except ValueError:
            record = {}
    runs = record.setdefault("runs", {})
    runs[markexpr] = {"finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                      "exit_status": int(exitstatus), **FIGURES.as_dict()}
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    terminalreporter.write_line(f"  written to {ARTIFACT.relative_to(REPO_ROOT)}")


# -- PostgreSQL: a fresh database per test ----------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (``dojo_epos_rel_<random>``), dropped afterwards; its URL."""
    name = f"dojo_epos_rel_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def epos_db(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """An empty EPOS database, once per backend: its kind and URL."""
    if request.param == "sqlite":
        return "sqlite", f"sqlite:///{tmp_path / 'epos.sqlite3'}"
    return "postgresql", str(request.getfixturevalue("pg_url"))


# -- in-loop servers --------------------------------------------------------------------------------


class LoopServer:
    """An ASGI app served by uvicorn on 127.0.0.1 inside the test's event loop."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.app = app
        self.requested_port = port
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self) -> LoopServer:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.requested_port,
                                log_level="warning", lifespan="off", ws_ping_interval=None,
                                ws=WS_PROTOCOL)
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()  # surface a start-up failure
            await asyncio.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is None or self.task is None:
            return
        self.server.should_exit = True
        await self.task
        self.server = self.task = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/epos"


@pytest.fixture
async def serve() -> AsyncIterator[Any]:
    """``await serve(app)`` -> a started :class:`LoopServer`; all stopped at the end."""
    servers: list[LoopServer] = []

    async def start(app: Any, port: int = 0) -> LoopServer:
        server = await LoopServer(app, port).start()
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        await server.stop()
