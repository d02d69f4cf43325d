"""The Dojo API routes an EPOS calls: ``/payment-intents...`` and ``/webhooks...``.

Each operation of ``dojo-api-payments-subset.openapi.json`` is served here on top of
:mod:`dojo_epos.platform.payments`. Requests authenticate like the rest of the platform
(``Authorization: Basic <key>``, ``software-house-id``) and must send the ``version`` header the
document requires. Every refusal is a problem-details body (:class:`~dojo_epos.contract.payments.
Problem`, valid as the document's ``ProblemDetails`` and ``ErrorResponse``): 400 for bad input,
401 for a refused key, 404 for an unknown id or another account's (never telling them apart), 409
for a state that forbids the request. Refunds require an ``IdempotencyKey`` header (at most 100
characters); reversals and captures accept one.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dojo_epos.contract import payments as p
from dojo_epos.platform.accounts import AuthFailure, KeyPolicy, Scope
from dojo_epos.platform.errors import ApiError
from dojo_epos.platform.http.common import read_json
from dojo_epos.platform.payments import PaymentProblem, Payments
from dojo_epos.platform.payments.subscriptions import known_events
from dojo_epos.settings import DOJO_API_VERSION

__all__ = ["payments_routes", "problem_response"]

M = TypeVar("M", bound=BaseModel)
_VALIDATION = "One or more validation errors occurred."
_TYPES = {400: "https://tools.ietf.org/html/rfc7231#section-6.5.1",
          401: "https://tools.ietf.org/html/rfc7235#section-3.1",
          404: "https://tools.ietf.org/html/rfc7231#section-6.5.4",
          409: "https://tools.ietf.org/html/rfc7231#section-6.5.8",
          413: "https://tools.ietf.org/html/rfc7231#section-6.5.11"}
MAX_KEY = 100


def problem_response(status: int, title: str, detail: str,
                     errors: dict[str, list[str]] | None = None) -> JSONResponse:
    trace = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    body = p.Problem(type=_TYPES.get(status, "about:blank"), title=title, status=status,
                     detail=detail, trace_id=trace, errors=errors)
    return JSONResponse(body.to_wire(), status_code=status)


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for err in exc.errors(include_url=False)[:20]:
        where = ".".join(str(part) for part in err.get("loc", ())) or "body"
        found.setdefault(where, []).append(str(err.get("msg", "invalid")))
    return found


Handler = Callable[[Request, Scope], Awaitable[Response]]


def payments_routes(payments: Payments, keys: KeyPolicy) -> list[BaseRoute]:
    """The routes, served by ``payments`` for callers ``keys`` lets in."""
    intents, subscriptions = payments.intents, payments.subscriptions

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                caller = keys.authenticate(request.headers)
                if not request.headers.get("version", "").strip():
                    raise PaymentProblem(400, _VALIDATION, "the version header is required",
                                         {"version": [f"Send 'version: {DOJO_API_VERSION}'."]})
                return await handler(request, caller.scope)
            except AuthFailure as exc:
                status = 401 if exc.status == 401 else 400
                return problem_response(status, "Unauthorized" if status == 401 else _VALIDATION,
                                        exc.message)
            except PaymentProblem as exc:
                return problem_response(exc.status, exc.title, exc.detail, exc.errors)
            except ApiError as exc:  # from read_json: no body, not JSON, too large
                return problem_response(exc.status, _VALIDATION, exc.message)
        return run

    async def body(request: Request, model: type[M]) -> M:
        data = await read_json(request)
        if not isinstance(data, dict):
            raise PaymentProblem(400, _VALIDATION, "the body must be a JSON object")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = _field_errors(exc)
            raise PaymentProblem(400, _VALIDATION, "; ".join(
                f"{k}: {v[0]}" for k, v in list(errors.items())[:5]), errors) from None

    def key_of(request: Request, *, required: bool) -> str | None:
        key = request.headers.get("idempotencykey")
        if key is None or not key.strip():
            if required:
                raise PaymentProblem(400, _VALIDATION, "the IdempotencyKey header is required",
                                     {"idempotencyKey": ["The IdempotencyKey header is required."]})
            return None
        if len(key) > MAX_KEY:
            raise PaymentProblem(400, _VALIDATION, f"IdempotencyKey is longer than {MAX_KEY}",
                                 {"idempotencyKey": [f"At most {MAX_KEY} characters."]})
        return key

    def ok(model: BaseModel | list[Any]) -> Response:
        data = [m.to_wire() for m in model] if isinstance(model, list) else model.model_dump(
            mode="json", by_alias=True, exclude_none=True)
        return JSONResponse(data)

    # -- payment intents ----------------------------------------------------------------------

    async def get_intent(request: Request, scope: Scope) -> Response:
        flag = request.query_params.get("returnCanceled", "false").lower()
        if flag not in ("true", "false"):
            raise PaymentProblem(400, _VALIDATION, "returnCanceled must be true or false",
                                 {"returnCanceled": ["The value is not valid."]})
        return ok(await intents.get(scope, request.path_params["paymentIntentId"],
                                    return_canceled=flag == "true"))

    async def search(request: Request, scope: Scope) -> Response:
        return ok(await intents.search(scope, await body(request, p.SearchPaymentIntentRequest)))

    async def refund(request: Request, scope: Scope) -> Response:
        key = key_of(request, required=True)
        assert key is not None
        wanted = await body(request, p.CreateRefundRequest)
        return ok(await intents.refund(scope, request.path_params["paymentIntentId"], key, wanted))

    async def get_refund(request: Request, scope: Scope) -> Response:
        refund_id = request.path_params["refundId"]
        if len(refund_id) > 50:
            raise PaymentProblem(400, _VALIDATION, "refundId is longer than 50 characters",
                                 {"refundId": ["At most 50 characters."]})
        return ok(await intents.get_refund(scope, refund_id))

    async def reverse(request: Request, scope: Scope) -> Response:
        key = key_of(request, required=False)
        return ok(await intents.reverse(scope, request.path_params["paymentIntentId"], key))

    async def capture(request: Request, scope: Scope) -> Response:
        key = key_of(request, required=False)
        wanted = await body(request, p.CreateCaptureRequest)
        return ok(await intents.capture(scope, request.path_params["paymentIntentId"], key, wanted))

    # -- webhooks -----------------------------------------------------------------------------

    async def events(request: Request, scope: Scope) -> Response:
        return ok(known_events())

    async def list_subscriptions(request: Request, scope: Scope) -> Response:
        return ok(await subscriptions.all_of(scope))

    async def subscribe(request: Request, scope: Scope) -> Response:
        return ok(await subscriptions.subscribe(scope, await body(request, p.SubscriptionRequest)))

    async def update(request: Request, scope: Scope) -> Response:
        wanted = await body(request, p.SubscriptionUpdateRequest)
        return ok(await subscriptions.update(scope, request.path_params["subscriptionId"], wanted))

    async def unsubscribe(request: Request, scope: Scope) -> Response:
        await subscriptions.remove(scope, request.path_params["subscriptionId"])
        return Response(status_code=204)

    async def list_secrets(request: Request, scope: Scope) -> Response:
        return ok(await subscriptions.secrets(scope, request.path_params["subscriptionId"]))

    async def new_secret(request: Request, scope: Scope) -> Response:
        return ok(await subscriptions.new_secret(scope, request.path_params["subscriptionId"]))

    async def activate(request: Request, scope: Scope) -> Response:
        await subscriptions.activate(scope, request.path_params["subscriptionId"],
                                     request.path_params["secretId"])
        return Response(status_code=204)

    async def remove_secret(request: Request, scope: Scope) -> Response:
        await subscriptions.remove_secret(scope, request.path_params["subscriptionId"],
                                          request.path_params["secretId"])
        return Response(status_code=204)

    pi, wh = "/payment-intents", "/webhooks"
    table: list[tuple[str, Handler, str]] = [
        (f"{pi}/search", search, "POST"),
        (f"{pi}/refunds/{{refundId}}", get_refund, "GET"),
        (f"{pi}/{{paymentIntentId}}", get_intent, "GET"),
        (f"{pi}/{{paymentIntentId}}/refunds", refund, "POST"),
        (f"{pi}/{{paymentIntentId}}/reversal", reverse, "POST"),
        (f"{pi}/{{paymentIntentId}}/captures", capture, "POST"),
        (f"{wh}/events", events, "GET"),
        (wh, list_subscriptions, "GET"),
        (wh, subscribe, "POST"),
        (f"{wh}/{{subscriptionId}}", update, "PATCH"),
        (f"{wh}/{{subscriptionId}}", unsubscribe, "DELETE"),
        (f"{wh}/{{subscriptionId}}/secrets", list_secrets, "GET"),
        (f"{wh}/{{subscriptionId}}/secrets", new_secret, "POST"),
        (f"{wh}/{{subscriptionId}}/secrets/{{secretId}}/activate", activate, "PUT"),
        (f"{wh}/{{subscriptionId}}/secrets/{{secretId}}", remove_secret, "DELETE"),
    ]
    return [Route(path, endpoint(handler), methods=[method]) for path, handler, method in table]
