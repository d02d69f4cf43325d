"""The tester tool's HTTP API, mounted under ``/epos-tester-tool`` on the local platform.

Same paths and shapes as Dojo's tool (``epos-tester-tool.openapi.json``), with the fixes the domain
notes recommend (spec defect #39): ``GET /flows`` returns an *array* of FlowDescription; the same
API-key rules as the rest of the platform apply; an unknown flow or a missing required parameter is
400 and an unknown flow id 404, with the platform's JSON error body.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dojo_epos.contract.errors import describe_validation_error
from dojo_epos.contract.tester_models import RunFlowRequest, SingleCallRequest
from dojo_epos.platform.accounts import KeyPolicy
from dojo_epos.platform.http.common import ApiError, authenticate, read_json
from dojo_epos.platform.tester.service import FlowRequestError, TesterService

__all__ = ["BASE_PATH", "tester_routes"]

BASE_PATH = "/epos-tester-tool"


def tester_routes(tester: TesterService, keys: KeyPolicy) -> list[BaseRoute]:
    """The routes, served by ``tester`` for callers ``keys`` lets in."""

    async def list_flows(request: Request) -> Response:
        authenticate(keys, request)
        return JSONResponse([d.to_wire() for d in tester.descriptions()])

    async def run_flow(request: Request) -> Response:
        caller = authenticate(keys, request)
        try:
            body = RunFlowRequest.model_validate(await read_json(request))
        except ValidationError as exc:
            raise ApiError(400, "invalid_request", describe_validation_error(exc)) from None
        try:
            flow_id = await tester.start(caller.scope, body.flow, body.params)
        except FlowRequestError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        return JSONResponse(flow_id)

    async def get_flow(request: Request) -> Response:
        caller = authenticate(keys, request)
        flow_id = request.path_params["flowId"]
        result = await tester.result(caller.scope, flow_id)
        if result is None:
            raise ApiError(404, "not_found", f"no flow {flow_id} for this account")
        return JSONResponse(result.to_wire())

    async def single_call(request: Request) -> Response:
        """Ours: one capability called once, answered as a finished FlowResult."""
        caller = authenticate(keys, request)
        try:
            body = SingleCallRequest.model_validate(await read_json(request))
        except ValidationError as exc:
            raise ApiError(400, "invalid_request", describe_validation_error(exc)) from None
        try:
            result = await tester.call(caller.scope, body.capability, body.params, body.transport)
        except FlowRequestError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        return JSONResponse(result.to_wire())

    return [
        Route(f"{BASE_PATH}/calls", single_call, methods=["POST"]),
        Route(f"{BASE_PATH}/flows", list_flows, methods=["GET"]),
        Route(f"{BASE_PATH}/flows", run_flow, methods=["POST"]),
        Route(f"{BASE_PATH}/flows/{{flowId}}", get_flow, methods=["GET"]),
    ]
