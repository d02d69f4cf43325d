"""The faults routes (local platform only): ``/epos-tester-tool/faults``.

* ``POST /epos-tester-tool/faults``: set a fault for the caller's scope; the body is camelCase JSON
  (``kind`` and, as the kind needs, ``capability``, ``delay``, ``delayMax``, ``closeCode``,
  ``status``, ``times``); answers 201 with the stored fault (its ``id``, ``times`` left and a
  ``description``, the text the call log shows).
* ``GET /epos-tester-tool/faults``: the scope's faults, ``{"faults": [...]}``, in the order set.
* ``DELETE /epos-tester-tool/faults/{faultId}``: clear one (404 when the scope has no such fault);
  ``DELETE /epos-tester-tool/faults``: clear all. Both answer ``{"cleared": <how many>}``.

Authentication and scope are the platform's (the API key, ``software-house-id``). A fault that
cannot be set is 400 ``invalid_fault`` with a message naming the field; nothing is changed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dojo_epos.platform.accounts import KeyPolicy
from dojo_epos.platform.fault_book import FaultBook
from dojo_epos.platform.faults import Fault, FaultError
from dojo_epos.platform.http.common import ApiError, authenticate, read_json

__all__ = ["FAULTS_PATH", "faults_routes"]

FAULTS_PATH = "/epos-tester-tool/faults"


def faults_routes(book: FaultBook, keys: KeyPolicy) -> list[BaseRoute]:
    """The routes, acting on ``book`` for callers ``keys`` lets in."""

    async def add(request: Request) -> Response:
        caller = authenticate(keys, request)
        body = await read_json(request)
        try:
            stored = await book.put(caller.scope, Fault.from_wire(body))
        except FaultError as exc:
            raise ApiError(400, "invalid_fault", str(exc)) from None
        return JSONResponse(stored.to_wire(), status_code=201)

    async def list_faults(request: Request) -> Response:
        caller = authenticate(keys, request)
        return JSONResponse({"faults": [f.to_wire() for f in await book.listed(caller.scope)]})

    async def clear_all(request: Request) -> Response:
        caller = authenticate(keys, request)
        return JSONResponse({"cleared": await book.remove(caller.scope)})

    async def clear_one(request: Request) -> Response:
        caller = authenticate(keys, request)
        fault_id = request.path_params["faultId"]
        cleared = await book.remove(caller.scope, fault_id)
        if not cleared:
            raise ApiError(404, "not_found", f"no fault {fault_id} for this account")
        return JSONResponse({"cleared": cleared})

    return [
        Route(FAULTS_PATH, add, methods=["POST"]),
        Route(FAULTS_PATH, list_faults, methods=["GET"]),
        Route(FAULTS_PATH, clear_all, methods=["DELETE"]),
        Route(f"{FAULTS_PATH}/{{faultId}}", clear_one, methods=["DELETE"]),
    ]
