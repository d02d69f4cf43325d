"""A REST EPOS on a bare asyncio HTTP/1.1 server, for benchmarks where the EPOS must cost little.

The same contract work per call as :func:`dojo_epos.epos.rest.build_rest_app` (basic auth, the
capability's route, its params validated and its answer serialized by
:func:`~dojo_epos.epos.handler.call_handler_json`, errors in the contract's shape), without the ASGI
stack around it: uvicorn, h11 and Starlette cost an in-memory EPOS most of its time per call.
Keep-alive, ``Content-Length`` bodies only (what the platform's client sends), one request at a
time per connection. Not a general web server: a benchmark's stand-in for a fast EPOS.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any
from urllib.parse import unquote

from dojo_epos.contract.capabilities import Capability, rest_routes
from dojo_epos.contract.errors import EposError, ErrorType, new_trace_id
from dojo_epos.contract.models import RequestHeaders
from dojo_epos.epos.handler import EposHandler, call_handler_json

__all__ = ["PlainRestEpos"]

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 500: "Internal Server Error"}


class PlainRestEpos:
    """``handler`` over REST on 127.0.0.1 (a free port), guarded by basic auth."""

    def __init__(self, handler: EposHandler, *, username: str, password: str) -> None:
        self.handler = handler
        self.expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        # Literal paths before templated ones, as the REST app orders them.
        routes = sorted(rest_routes(), key=lambda c: (c.http[1].count("{"), c.http[1]))
        self.routes: list[tuple[str, re.Pattern[str], Capability]] = [
            (c.http[0], re.compile("^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", c.http[1]) + "$"), c)
            for c in routes]
        self.server: asyncio.Server | None = None
        self.port = 0
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=4096)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self._open):  # idle keep-alive connections end with the server
            writer.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                status, payload = await self._answer(method, target.split("?", 1)[0], headers, body)
                writer.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n" % (
                                 status, _REASONS.get(status, "Error").encode(), len(payload))
                             + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # the client went away (or closed its kept-alive connection)
        finally:
            self._open.discard(writer)
            writer.close()

    def _route(self, method: str, path: str) -> tuple[Capability, re.Match[str]] | None:
        for route_method, pattern, capability in self.routes:
            found = pattern.match(path)
            if found is not None and route_method == method:
                return capability, found
        return None

    async def _answer(self, method: str, path: str, headers: dict[str, str],
                      body: bytes) -> tuple[int, bytes]:
        trace_id = new_trace_id()
        if headers.get("authorization") != self.expected:
            return _error(EposError(ErrorType.INVALID_REQUEST,
                                    "missing or wrong basic auth credentials", trace_id), 401)
        routed = self._route(method, path)
        if routed is None:
            return _error(EposError(ErrorType.NOT_FOUND, f"no route {method} {path}", trace_id), 404)
        capability, found = routed
        try:
            data: Any = json.loads(body) if body else {}
            rest_body = data if capability.rest_body is not None else None
            params: dict[str, Any] = dict(data) if rest_body is not None else {}
            for path_param, wire_field in capability.path_fields.items():
                params[wire_field] = unquote(found.group(path_param))
            params["headers"] = RequestHeaders.from_http(headers)
            result = await call_handler_json(self.handler, capability, params, transport="rest",
                                             trace_id=trace_id, rest_body=rest_body)
        except EposError as exc:
            if exc.trace_id is None:
                exc.trace_id = trace_id
            return _error(exc)
        except ValueError as exc:  # a body that is not JSON
            return _error(EposError(ErrorType.INVALID_REQUEST, f"body: {exc}", trace_id), 400)
        return 200, result.encode()


def _error(error: EposError, status: int | None = None) -> tuple[int, bytes]:
    return status or error.http_status, json.dumps(error.to_wire()).encode()
