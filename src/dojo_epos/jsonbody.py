"""Reading a JSON request body: in chunks, within one size limit, strictly.

Both HTTP servers of dojo-epos read bodies this way, the EPOS's REST app (:mod:`dojo_epos.epos.rest`)
and the local platform's API (:mod:`dojo_epos.platform.http`): the body is read chunk by chunk and
refused as soon as it passes the limit (a declared ``Content-Length`` over it is refused before
reading), so a huge or endless upload never sits in memory whole; it is decoded as UTF-8 and parsed
with :func:`~dojo_epos.contract.jsonrpc.loads_strict`, which refuses NaN and Infinity. What went
wrong is a :class:`BodyError` (status 400 or 413, and a message); each server answers it in its
own error shape.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from dojo_epos.contract.jsonrpc import loads_strict

__all__ = ["MAX_BODY_BYTES", "BodyError", "read_json_body"]

#: Largest request body read, in bytes. Dojo documents no limit; 1 MiB holds a very large order,
#: and a platform registration or event is a few kB.
MAX_BODY_BYTES = 1_048_576

_REQUIRED: Any = object()


class BodyError(Exception):
    """A body that cannot be read: ``status`` 413 (too large) or 400 (missing, not JSON)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_json_body(request: Request, *, max_bytes: int = MAX_BODY_BYTES,
                         empty: Any = _REQUIRED) -> Any:
    """The request's body as JSON; ``empty`` for a blank body (a BodyError when not given)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if empty is _REQUIRED:
            raise BodyError(400, "a JSON body is required")
        return empty
    try:
        return loads_strict(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BodyError(400, f"the body is not valid JSON: {_first_line(exc)}") from None


def _too_large(max_bytes: int) -> BodyError:
    return BodyError(413, f"the body exceeds {max_bytes} bytes")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
