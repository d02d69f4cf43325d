"""Small HTTP helpers shared by the platform's endpoints: JSON errors, body parsing, auth.

Every platform API error has one shape, ``{"error": <code>, "message": <text>}``, where ``code`` is a
short snake_case name a program can branch on (``invalid_api_key``, ``missing_software_house_id``,
``invalid_request``, ``not_found``...) and ``message`` is for people. Dojo publishes no error schema
for its ``/epos`` API, so this is our choice; the EPOS contract's own EPOSError is not used here
because these are not EPOS Data API calls.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from dojo_epos.platform.accounts import AuthFailure, Caller

if TYPE_CHECKING:
    from dojo_epos.platform.app import Platform

__all__ = ["MAX_BODY_BYTES", "ApiError", "authenticate", "error_response", "platform_of",
           "read_json"]


class ApiError(Exception):
    """An error answer for a platform API call: status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def platform_of(conn: HTTPConnection) -> Platform:
    platform: Platform = conn.app.state.platform
    return platform


def authenticate(conn: HTTPConnection) -> Caller:
    """The caller of a request or handshake; raises :class:`ApiError` (401/400) otherwise."""
    try:
        return platform_of(conn).keys.authenticate(conn.headers)
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
