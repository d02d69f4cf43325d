"""The events routes: ``POST /epos/events`` and the local ``GET /epos/events``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dojo_epos.platform.accounts import KeyPolicy
from dojo_epos.platform.errors import ApiError
from dojo_epos.platform.events import Events
from dojo_epos.platform.http.common import authenticate, read_json

__all__ = ["events_routes"]


def events_routes(events: Events, keys: KeyPolicy) -> list[BaseRoute]:
    """The routes, served by ``events`` for callers ``keys`` lets in."""

    async def post_event(request: Request) -> Response:
        caller = authenticate(keys, request)
        return JSONResponse(await events.receive(caller, await read_json(request)))

    async def list_events(request: Request) -> Response:
        caller = authenticate(keys, request)
        try:
            limit = int(request.query_params.get("limit", "100"))
        except ValueError:
            raise ApiError(400, "invalid_request", "limit must be an integer") from None
        return JSONResponse({"events": await events.recent(caller.scope, limit)})

    return [Route("/epos/events", post_event, methods=["POST"]),
            Route("/epos/events", list_events, methods=["GET"])]
