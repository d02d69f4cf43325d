"""The Traffic page: an account's last hour as pictures, refreshing live, per capability.

Charts come from :mod:`.charts` (pure) and are drawn by ``_traffic.html`` as inline SVG; the
page re-fetches that fragment every few seconds through the dashboard's ``data-live`` script. The
capability filter offers what the account registered (and anything it was called with).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.store import utc_now

from .charts import traffic
from .web import no_store, render, render_fragment

if TYPE_CHECKING:
    from .routes import Dashboard

__all__ = ["TrafficPages"]

#: Calls read for the hour's pictures (the log keeps more; an hour of a busy EPOS may hold more).
TRAFFIC_CALLS = 5000
#: How often the pictures refresh, in milliseconds.
REFRESH_MS = 5000


class TrafficPages:
    def __init__(self, dashboard: Dashboard) -> None:
        self.d = dashboard

    async def _context(self, scope: Scope, capability: str) -> dict[str, Any]:
        rows = await self.d._calls(scope, TRAFFIC_CALLS)
        registered = await self.d.registry.capability_names(scope)
        capabilities = sorted(registered | {r.capability for r in rows})
        return {"scope": scope, "traffic": traffic(rows, utc_now(), capability),
                "capability": capability, "capabilities": capabilities,
                "registered": registered, "refresh_ms": REFRESH_MS}

    async def page(self, request: Request) -> Response:
        scope = await self.d._scope_or_picker(request, "/traffic")
        if isinstance(scope, Response):
            return scope
        capability = request.query_params.get("capability", "")
        return render("traffic.html", **await self._context(scope, capability))

    async def live(self, request: Request) -> Response:
        scope = await self.d._scope_or_picker(request, "/traffic")
        if isinstance(scope, Response):
            return no_store(JSONResponse({"error": "not_found"}, status_code=404))
        capability = request.query_params.get("capability", "")
        html = render_fragment("_traffic.html", **await self._context(scope, capability))
        return no_store(JSONResponse({"done": False, "html": html}))
