"""What every platform API route shares: the error response, authentication, the JSON body.

Errors are :class:`~dojo_epos.platform.errors.ApiError` (``{"error": <code>, "message": <text>}``);
services raise them, and the handlers here turn them, and Starlette's own 404/405, into responses
of that shape, never an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from dojo_epos.jsonbody import MAX_BODY_BYTES, BodyError, read_json_body
from dojo_epos.platform.accounts import AuthFailure, Caller, KeyPolicy
from dojo_epos.platform.errors import ApiError

__all__ = ["EXCEPTION_HANDLERS", "MAX_BODY_BYTES", "ApiError", "api_error_response", "authenticate",
           "read_json"]

log = logging.getLogger("dojo_epos.platform")


def api_error_response(status: int, code: str, message: str) -> JSONResponse:
    """A platform API error answer."""
    return JSONResponse({"error": code, "message": message}, status_code=status)


def authenticate(keys: KeyPolicy, conn: HTTPConnection) -> Caller:
    """The caller of a request or handshake; raises :class:`ApiError` (401/400) otherwise."""
    try:
        return keys.authenticate(conn.headers)
    except AuthFailure as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None


async def read_json(request: Request, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The request body as JSON (see :mod:`dojo_epos.jsonbody`); 400 when it is missing or not
    JSON (NaN and Infinity included), 413 when larger than ``max_bytes``."""
    try:
        return await read_json_body(request, max_bytes=max_bytes)
    except BodyError as exc:
        code = "body_too_large" if exc.status == 413 else "invalid_request"
        raise ApiError(exc.status, code, exc.message) from None


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return api_error_response(exc.status, exc.code, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return api_error_response(exc.status_code, code, str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return api_error_response(500, "internal_error", "the platform failed; see its log")


#: Starlette exception handlers giving every platform error the API's shape.
EXCEPTION_HANDLERS: dict[Any, Any] = {ApiError: _api_error, HTTPException: _http_error,
                                      Exception: _unexpected}
