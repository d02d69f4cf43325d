"""The registry's routes: ``/epos/integrations`` and its ``rest``, ``ws`` and ``dojo`` parts."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dojo_epos.platform.accounts import KeyPolicy
from dojo_epos.platform.http.common import authenticate, read_json
from dojo_epos.platform.registry import Registry

__all__ = ["registry_routes"]


def _json(value: BaseModel | Sequence[BaseModel]) -> JSONResponse:
    if isinstance(value, BaseModel):
        return JSONResponse(value.model_dump(mode="json", by_alias=True, exclude_none=True))
    return JSONResponse([v.model_dump(mode="json", by_alias=True, exclude_none=True)
                         for v in value])


def registry_routes(registry: Registry, keys: KeyPolicy) -> list[BaseRoute]:
    """The routes, served by ``registry`` for callers ``keys`` lets in."""

    async def get_all(request: Request) -> Response:
        caller = authenticate(keys, request)
        return _json(await registry.all(caller.scope))

    async def rest(request: Request) -> Response:
        caller = authenticate(keys, request)
        if request.method == "PUT":
            return _json([await registry.put_rest(caller, await read_json(request))])
        return _json(await registry.rest(caller.scope))

    async def ws(request: Request) -> Response:
        caller = authenticate(keys, request)
        if request.method == "PUT":
            return _json([await registry.put_ws(caller, await read_json(request))])
        return _json(await registry.ws(caller.scope))

    async def dojo(request: Request) -> Response:
        caller = authenticate(keys, request)
        return _json(await registry.dojo_managed(caller.scope))

    return [
        Route("/epos/integrations", get_all, methods=["GET"]),
        Route("/epos/integrations/rest", rest, methods=["GET", "PUT"]),
        Route("/epos/integrations/ws", ws, methods=["GET", "PUT"]),
        Route("/epos/integrations/dojo", dojo, methods=["GET"]),
    ]
