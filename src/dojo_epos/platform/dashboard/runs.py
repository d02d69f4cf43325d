"""A flow run's JUnit file, downloadable from its page. The file is the CLI's
(:func:`dojo_epos.flowreport.junit_bytes`), so ``flows run --junit`` and the dashboard agree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from dojo_epos.flowreport import junit_bytes

from .web import SECURITY_HEADERS

if TYPE_CHECKING:
    from .routes import Dashboard

__all__ = ["junit"]


async def junit(dashboard: Dashboard, request: Request) -> Response:
    found = await dashboard._flow_context(request)
    if isinstance(found, Response):
        return found
    _scope, result = found
    name = f"flow-{result.flow_id}.xml"
    return Response(junit_bytes(result), media_type="application/xml", headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})
