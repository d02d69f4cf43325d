"""The REST transport: an ASGI app that serves a handler on Dojo's ``/v1/...`` routes.

The routes come from the capability catalogue (one Starlette route per distinct path, each
dispatching on the HTTP method), never written out one by one. A request becomes the same params
object the WebSocket carries (path parameters through :attr:`Capability.path_fields`, the JSON body
merged in, Dojo's four request headers as ``headers``) and goes, with the raw body, through the
connector's own call, :func:`~dojo_epos.epos.handler.call_handler_json`, so both transports behave
identically; the body is read by :mod:`dojo_epos.jsonbody`, as the platform reads its own.

Beyond the spec: ``POST /v1/events`` for HandleEvent (spec defect #6), HTTP basic auth on every
``/v1`` route (spec defect #7), ``GET /healthz`` (no auth) and ``GET /openapi.json`` (our document).
Every failure is an EPOSError body with a ``traceId``; nothing answers with a bare 5xx.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import Capability, rest_routes
from dojo_epos.contract.errors import EposError, ErrorType, new_trace_id
from dojo_epos.epos.auth_throttle import AuthThrottle
from dojo_epos.epos.handler import EposHandler, call_handler_json
from dojo_epos.epos.openapi import build_openapi
from dojo_epos.jsonbody import MAX_BODY_BYTES, BodyError, read_json_body

__all__ = ["build_rest_app", "epos_error_response", "serve"]

log = logging.getLogger("dojo_epos.epos.rest")


def build_rest_app(
    handler: EposHandler,
    *,
    username: str,
    password: str,
    max_body_bytes: int = MAX_BODY_BYTES,
    auth_throttle: AuthThrottle | bool = True,
) -> Starlette:
    """An ASGI app serving ``handler`` over REST, guarded by HTTP basic auth.

    ``username``/``password`` are the credentials registered with Dojo for this EPOS. A client that
    keeps failing them is answered 429 (:mod:`.auth_throttle`, default setting; or pass one);
    ``auth_throttle=False`` turns that off.
    """
    throttle = AuthThrottle() if auth_throttle is True else auth_throttle or None
    auth = _BasicAuth(username, password, throttle)
    by_path: dict[str, dict[str, Capability]] = {}
    for capability in rest_routes():
        method, path = capability.http
        by_path.setdefault(path, {})[method] = capability
    routes = [
        Route(path, _PathEndpoint(handler, by_path[path], auth, max_body_bytes), methods=None)
        for path in route_order(by_path)
    ]
    openapi = build_openapi()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    routes += [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_exception, Exception: _unexpected},
    )


def route_order(paths: Iterable[str]) -> list[str]:
    """The order Starlette tries the paths in: the orders' first, and within each group the
    literal paths before the templated ones.

    Starlette tries routes one by one, a regular expression each: sorted alphabetically, a
    GetOrderById (what Dojo calls most: Pay at Table polls the order) tried nine before its own
    (a tenth of the REST app's time per request, cProfile). Literal before templated keeps
    ``/v1/orders/search`` from being taken for an order id: a path a template matches starts
    with the template's text up to its first parameter, so it is in the same group.
    """
    return sorted(paths, key=lambda p: (not p.startswith("/v1/orders"), p.count("{"), p))


async def serve(
    handler: EposHandler,
    *,
    username: str,
    password: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    max_body_bytes: int = MAX_BODY_BYTES,
    auth_throttle: bool = True,
) -> None:
    """Serve ``handler`` over REST with uvicorn until cancelled (what ``dojo-epos epos serve`` runs)."""
    import uvicorn  # only needed to run a server, not to build or test the app

    app = build_rest_app(handler, username=username, password=password,
                         max_body_bytes=max_body_bytes,
                         auth_throttle=auth_throttle)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False)
    await uvicorn.Server(config).serve()


def epos_error_response(error: EposError, headers: Mapping[str, str] | None = None,
                   status: int | None = None) -> JSONResponse:
    """The EPOSError answer for ``error``, always with a trace id."""
    if error.trace_id is None:
        error.trace_id = new_trace_id()
    return JSONResponse(error.to_wire(), status_code=status or error.http_status,
                        headers=dict(headers or {}))


async def _http_exception(request: Request, exc: Exception) -> Response:
    # Starlette's own 404 (no route) and 405 arrive here; answer in the contract's shape.
    assert isinstance(exc, HTTPException)
    error_type = ErrorType.NOT_FOUND if exc.status_code == 404 else ErrorType.INVALID_REQUEST
    message = f"no route {request.method} {request.url.path}" if exc.status_code == 404 else exc.detail
    return epos_error_response(EposError(error_type, message), exc.headers, exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    trace_id = new_trace_id()
    log.error("unhandled error on %s %s (trace %s)", request.method, request.url.path, trace_id,
              exc_info=exc)
    return epos_error_response(EposError.unexpected(trace_id))


class _BasicAuth:
    """Checks ``Authorization: Basic`` against the configured credentials in constant time."""

    def __init__(self, username: str, password: str, throttle: AuthThrottle | None) -> None:
        self._username = username.encode("utf-8")
        self._password = password.encode("utf-8")
        # The header a client sends for exactly these credentials: most requests carry it, and one
        # constant-time comparison with it spares decoding (other spellings take the full check).
        self._exact = b"Basic " + base64.b64encode(self._username + b":" + self._password)
        self.throttle = throttle

    def refusal(self, request: Request, trace_id: str,
                authorization: str | None) -> Response | None:
        """The 429 or 401 answer for ``request`` (whose ``Authorization`` header is
        ``authorization``), or None when its credentials are right."""
        client = request.client.host if request.client is not None else "unknown"
        if self.throttle is not None and (wait := self.throttle.retry_after(client)) is not None:
            return epos_error_response(
                EposError(ErrorType.INVALID_REQUEST, "too many failed basic auth attempts; "
                          f"retry in {wait} s", trace_id), {"Retry-After": str(wait)}, 429)
        if self.allows(authorization):
            return None
        if self.throttle is not None:
            self.throttle.failed(client)
        # spec defect #7: Dojo calls with basic auth although the spec declares none.
        return epos_error_response(
            EposError(ErrorType.INVALID_REQUEST, "missing or wrong basic auth credentials", trace_id),
            {"WWW-Authenticate": 'Basic realm="epos", charset="UTF-8"'}, 401)

    def allows(self, header: str | None) -> bool:
        if not header:
            return False
        if hmac.compare_digest(header.encode("latin-1", "replace"), self._exact):
            return True
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, sep, password = decoded.partition(b":")
        # Both compared every time (no short circuit), so timing says nothing about which failed.
        user_ok = hmac.compare_digest(user, self._username)
        password_ok = hmac.compare_digest(password, self._password)
        return bool(sep) and user_ok and password_ok


#: The request headers the app reads: Dojo's four, and the credentials.
_READ_HEADERS = {name.encode("latin-1"): name
                 for name in (*m.HTTP_HEADER_NAMES.values(), "authorization")}


def _read_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The headers of :data:`_READ_HEADERS` present in an ASGI scope's raw list (whose names
    servers give in lower case), the first of each, as Starlette's ``Headers.get`` would find
    them: found in one pass, rather than the list scanned once per name, nor every header
    decoded."""
    found: dict[str, str] = {}
    for key, value in raw:
        name = _READ_HEADERS.get(key)
        if name is not None and name not in found:
            found[name] = value.decode("latin-1")
    return found


class _PathEndpoint:
    """The ASGI endpoint for one path: auth, method dispatch, params building, the handler call."""

    def __init__(self, handler: EposHandler, methods: dict[str, Capability], auth: _BasicAuth,
                 max_body_bytes: int) -> None:
        self.handler = handler
        self.methods = methods
        self.auth = auth
        self.max_body_bytes = max_body_bytes
        self.allow = ", ".join(sorted(methods))
        # Starlette treats a class instance with __call__(scope, receive, send) as an ASGI app.

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        trace_id = new_trace_id()
        found = _read_headers(request.scope["headers"])
        refused = self.auth.refusal(request, trace_id, found.get("authorization"))
        if refused is not None:
            return refused
        capability = self.methods.get(request.method)
        if capability is None:
            return epos_error_response(
                EposError(ErrorType.INVALID_REQUEST,
                          f"method {request.method} not allowed on {request.url.path}; "
                          f"allowed: {self.allow}", trace_id),
                {"Allow": self.allow}, 405)
        try:
            body = await self.read_body(capability, request)
            result = await call_handler_json(
                self.handler, capability, self.params_for(capability, request, body, found),
                transport="rest", trace_id=trace_id, rest_body=body)
        except BodyError as exc:
            return epos_error_response(
                EposError(ErrorType.INVALID_REQUEST, exc.message, trace_id), status=exc.status)
        except EposError as exc:
            if exc.trace_id is None:
                exc.trace_id = trace_id
            return epos_error_response(exc)
        except Exception:
            log.exception("REST %s %s failed (trace %s)", request.method, request.url.path,
                          trace_id)
            return epos_error_response(EposError.unexpected(trace_id))
        return Response(result, media_type="application/json")

    @staticmethod
    def params_for(capability: Capability, request: Request, body: dict[str, Any] | None,
                   headers: Mapping[str, str]) -> dict[str, Any]:
        """The WebSocket-shaped params object for this request (``headers`` as the model, made
        of Dojo's four request headers among ``headers``: see :func:`_read_headers`)."""
        params: dict[str, Any] = dict(body) if body is not None else {}
        for path_param, wire_field in capability.path_fields.items():
            params[wire_field] = request.path_params[path_param]
        params["headers"] = m.RequestHeaders.from_http(headers)
        return params

    async def read_body(self, capability: Capability, request: Request) -> dict[str, Any] | None:
        """The JSON object of a route that takes a body (``{}`` when blank), else None; raises
        :class:`BodyError`."""
        if capability.rest_body is None:
            return None
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and not (content_type == "application/json"
                                 or content_type.endswith("+json")):
            raise BodyError(400, f"content-type must be application/json, not {content_type}")
        body = await read_json_body(request, max_bytes=self.max_body_bytes, empty={})
        if not isinstance(body, dict):
            raise BodyError(400, f"body must be a JSON object, not {_json_type(body)}")
        return body


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
