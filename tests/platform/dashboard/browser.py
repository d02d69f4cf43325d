"""The dashboard in a real headless browser: Debian's chromium, driven by Playwright.

Both servers are real (uvicorn on 127.0.0.1, free ports): the platform with its dashboard, and the
seeded reference EPOS over REST, registered through the platform API like any EPOS. Pages are
viewed at a phone's size; a screenshot of each page a test checks is kept in
``test-artifacts/screenshots``. Playwright never downloads a browser here: it drives
``/usr/bin/chromium``. Browser test modules call :func:`require_browser` at import and take the
``site`` fixture from :func:`open_site`.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dojo_epos.client import AsyncClient
from dojo_epos.epos.reference import ReferenceEpos
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.platform import Platform, build_platform_app
from dojo_epos.platform.dashboard.web import scope_token
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, scope_of

from .conftest import EPOS_PASSWORD, EPOS_USER, serve

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
WAIT_MS = 20_000


def require_browser() -> Any:
    """Playwright's async API, or skip the calling module saying what is missing."""
    api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                    "(apt-get install -y chromium)", allow_module_level=True)
    return api


_TOO_WIDE = """() => Array.from(document.querySelectorAll("main *"))
  .filter(e => !e.closest("pre, .scroll, .visually-hidden"))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
               || (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1))
  .map(e => e.tagName.toLowerCase() + "." + e.className + " " + e.textContent.slice(0, 40))"""


@dataclass
class Site:
    base_url: str
    epos: ReferenceEpos
    page: Any
    client: AsyncClient
    epos_url: str

    def url(self, path: str, **query: str) -> str:
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        return f"{self.base_url}{path}?scope={scope_token(scope_of())}{extra}"

    async def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    async def too_wide(self) -> list[str]:
        """What sticks out sideways at a phone's width (empty when the page fits)."""
        return list(await self.page.evaluate(_TOO_WIDE))

    async def register(self, without: Sequence[str] = ()) -> None:
        caps = [(c.name, "v1") for c in self.epos.offered_capabilities() if c.name not in without]
        await self.client.put_rest_integration(f"{self.epos_url}/", caps, username=EPOS_USER,
                                               password=EPOS_PASSWORD)


@asynccontextmanager
async def open_site(platform: Platform, reference: ReferenceEpos) -> AsyncIterator[Site]:
    """Both servers up, the EPOS registered with every capability, a phone-sized page open."""
    api = require_browser()
    epos_server, epos_task, epos_url = await serve(
        build_rest_app(reference, username=EPOS_USER, password=EPOS_PASSWORD))
    server, task, base_url = await serve(build_platform_app(platform=platform))
    errors: list[str] = []
    async with AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url=base_url) as client:
        async with api.async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            context = await browser.new_context(viewport=PHONE)
            context.set_default_timeout(WAIT_MS)
            page = await context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            site = Site(base_url, reference, page, client, epos_url)
            await site.register()
            try:
                yield site
            finally:
                await context.close()
                await browser.close()
                for srv in (server, epos_server):
                    srv.should_exit = True
                await task
                await epos_task
    assert errors == [], f"script errors on the page: {errors}"
