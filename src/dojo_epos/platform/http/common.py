"""What every platform API route shares: the error response, authentication, the JSON body.

Errors are :class:`~dojo_epos.platform.errors.ApiError` (``{"error": <code>, "message": <text>}``);
services raise them, and the handlers here turn them, and Starlette's own 404/405, into responses
of that shape, never an HTML page.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

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


#: Largest platform API request body read, in bytes (a registration or an event is a few kB).
MAX_BODY_BYTES = 1_048_576


async def read_json(request: Request, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The request body as JSON; 400 when it is missing or not JSON, 413 when too large.

    The body is read in chunks and refused as soon as it passes ``max_bytes``, so a huge or
    endless upload never sits in memory whole.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, "body_too_large", f"the body exceeds {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(413, "body_too_large", f"the body exceeds {max_bytes} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiError(400, "invalid_request", "a JSON body is required")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_request", "the body is not valid JSON") from None


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
