"""Running ``dojo-epos`` as a stranger does: separate processes, a clean environment, free ports.

The one place tests start things in the background:

- :func:`spawn` starts ``dojo-epos ARGS`` (or any command) as a process of its own, its output
  collected line by line (:class:`Background`);
- :class:`BackgroundServers` serves ASGI apps (the local platform, the reference EPOS, a stranger's
  EPOS) on loopback ports from an event loop in a thread of its own, for tests whose client is
  synchronous (our CLI in a subprocess, or typer's ``CliRunner``); :func:`serve`,
  :func:`serve_platform` and :func:`serve_reference` are the usual set-up steps.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from dojo_epos.epos.reference import open_reference
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.serving import start_server

#: This checkout's ``dojo-epos`` command (the virtualenv's console script).
DOJO_EPOS = str(Path(sys.executable).parent / "dojo-epos")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any DOJO_/EPOS_/PLATFORM_ setting of ours, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOJO_", "EPOS_", "PLATFORM_"))}
    return {**env, "COLUMNS": "200", **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Background:
    """A process in the background, its output collected line by line."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never printed {text!r}:\n{''.join(self.lines)}")
            time.sleep(0.05)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> int:
        """SIGINT (as Ctrl-C), then SIGKILL after 30 s; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.reader.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return self.proc.returncode


def spawn(*args: str, env: dict[str, str] | None = None, cwd: Path | str | None = None,
          command: str = DOJO_EPOS) -> Background:
    """``dojo-epos ARGS`` (or ``command ARGS``) in the background, in :func:`clean_env` plus
    ``env``; stdout and stderr together in :attr:`Background.lines`."""
    return Background(subprocess.Popen([command, *args], cwd=cwd, env=clean_env(**(env or {})),
                                       text=True, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT))


def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")




#: Starts a test's servers: pushes each clean-up onto the stack, returns each server's URL by name.
Setup = Callable[[AsyncExitStack], Awaitable[dict[str, str]]]


class BackgroundServers:
    """Servers in an event loop of a thread of their own, for the test's lifetime.

    ``with BackgroundServers(setup) as servers: servers.urls["platform"]``. ``setup`` runs in that
    loop; what it pushes onto the stack is undone, last first, when the block ends.
    """

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.urls: dict[str, str] = {}
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.failure: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),),
                                       daemon=True)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with AsyncExitStack() as stack:
            try:
                self.urls = await self.setup(stack)
            except BaseException as exc:
                self.failure = exc
                raise
            finally:
                self.ready.set()
            await self._stop.wait()

    def __enter__(self) -> BackgroundServers:
        self.thread.start()
        assert self.ready.wait(60), "the servers did not start within 60 s"
        if self.failure is not None:
            self.thread.join(30)
            raise AssertionError("the servers failed to start") from self.failure
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)
        self.loop.close()


async def serve(stack: AsyncExitStack, app: Any, **options: Any) -> str:
    """Serve ``app`` on a free loopback port until the stack unwinds; its base URL."""
    served = await start_server(app, **options)
    stack.push_async_callback(served.stop)
    return served.url


async def serve_platform(stack: AsyncExitStack, folder: Path, **settings: Any) -> str:
    """The local platform on ``folder/p.sqlite3`` (no keepalive pings; ``settings`` on top)."""
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{folder / 'p.sqlite3'}",
                                         **{"ping_interval": None, **settings}))
    stack.push_async_callback(platform.close)
    return await serve(stack, build_platform_app(platform=platform), lifespan="off")


async def serve_reference(stack: AsyncExitStack, folder: Path, *, username: str,
                          password: str) -> str:
    """The seeded reference EPOS on ``folder/epos.sqlite3``, over REST with basic auth."""
    epos = await open_reference(f"sqlite:///{folder / 'epos.sqlite3'}")
    stack.push_async_callback(epos.aclose)
    await seed_database(epos.db)
    return await serve(stack, build_rest_app(epos, username=username, password=password))
