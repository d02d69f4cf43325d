"""The capability registry: ``/epos/integrations`` and its ``rest``, ``ws`` and ``dojo`` parts.

An EPOS tells Dojo which capabilities it serves, per transport, with ``PUT
/epos/integrations/{rest|ws}``; without that Dojo invokes nothing (domain notes §4). A PUT
*replaces* that transport's set (spec defect #38) and is checked as a whole before anything is
written, so a rejected PUT changes nothing.

Names are checked against the catalogue: spec names, the newer doc names and the example-only names
are all accepted (spec defects #1, #2; the last with a warning) and are stored and echoed exactly as
sent; routing uses the catalogue row. Versions such as ``v1`` and ``1.0.0`` both mean major 1
(spec defect #4); any other major is refused.

A REST registration's ``url`` is a *base* to which the spec paths are appended. A URL that already
carries a spec path or a ``{...}`` template (the seed example does: spec defect #40) is cut before
its first ``/v1/`` segment, with a warning. The basic-auth password is kept to call the EPOS and is
never returned or logged. The routes are in :mod:`dojo_epos.platform.http.registry`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from dojo_epos.contract.capabilities import (
    EXAMPLE_ONLY_ALIASES,
    Capability,
    UnknownCapability,
    lookup,
    parse_version,
)
from dojo_epos.contract.errors import describe_validation_error
from dojo_epos.contract.platform_models import (
    AllIntegrationsResponse,
    CapabilityRequest,
    CapabilityResponse,
    DojoManagedIntegrationResponse,
    RestAuthResponse,
    RestBasicAuthResponse,
    RestIntegrationRequest,
    RestIntegrationResponse,
    WsIntegrationRequest,
    WsIntegrationResponse,
)
from dojo_epos.platform.accounts import Caller, Scope
from dojo_epos.platform.egress import refused_host
from dojo_epos.platform.errors import ApiError
from dojo_epos.platform.store import Registration, Store

__all__ = ["REST", "WS", "Registry", "rest_base"]

log = logging.getLogger("dojo_epos.platform.registry")

REST = "rest"
WS = "ws"


def rest_base(url: str) -> tuple[str, bool]:
    """The base URL of a registered REST ``url``, and whether a spec path had to be cut off.

    ``https://e.example/dojo/`` -> ``https://e.example/dojo``; ``https://e.example/x/v1/orders/{id}``
    -> ``https://e.example/x`` (spec defect #40). Raises ValueError for a URL that cannot be a base.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("url must be an absolute http:// or https:// URL")
    if "?" in url or "#" in url:
        raise ValueError("url must be a base URL, without a query or fragment")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs and call records; auth.basic is where they go.
        raise ValueError("url must not carry credentials; send them in auth.basic")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as exc:
        raise ValueError(f"url has an invalid port: {exc}") from None
    refused = refused_host(parts.hostname)
    if refused:
        raise ValueError(f"url points at {refused}, which the platform never calls")
    path = parts.path
    segments = path.split("/")
    cut = False
    if "v1" in segments:
        path = "/".join(segments[: segments.index("v1")])
        cut = True
    if "{" in path or "}" in path:
        raise ValueError("url holds a {...} template outside a /v1/ path; register the base URL")
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}", cut


def _validate(model: type[BaseModel], body: Any) -> Any:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, "invalid_request", describe_validation_error(exc)) from None


def check_capabilities(requested: Sequence[CapabilityRequest]) -> list[tuple[str, str]]:
    """The ``(name, version)`` pairs of a PUT, or ApiError 400 naming the first bad entry."""
    seen: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(requested):
        where = f"capabilities[{index}]"
        try:
            row = lookup(item.name)
        except UnknownCapability:
            raise ApiError(400, "unknown_capability",
                           f"{where}.name: unknown capability {item.name!r}") from None
        try:
            major = parse_version(item.version)
        except ValueError as exc:
            raise ApiError(400, "invalid_version", f"{where}.version: {exc}") from None
        if major != 1:
            raise ApiError(400, "unsupported_version",
                           f"{where}.version: {item.name} has no major version {major}; use v1")
        if row.name in seen:
            raise ApiError(400, "duplicate_capability",
                           f"{where}.name: {item.name!r} names {row.name}, "
                           f"already registered as {seen[row.name]!r}")
        seen[row.name] = item.name
        if item.name in EXAMPLE_ONLY_ALIASES:
            # spec defect #2: only Dojo's examples use these names.
            log.warning("capability name %r is only used in Dojo's examples; it means %s",
                        item.name, row.name)
        pairs.append((item.name, item.version))
    return pairs


def _caps(registration: Registration) -> list[CapabilityResponse]:
    return [CapabilityResponse(name=c.name, version=c.version, updated_at=c.updated_at)
            for c in registration.capabilities]


def rest_response(registration: Registration) -> RestIntegrationResponse:
    """The wire view of a REST registration: the user name, never the password."""
    return RestIntegrationResponse(
        url=registration.url or "",
        capabilities=_caps(registration),
        auth=RestAuthResponse(basic=RestBasicAuthResponse(username=registration.username or "")),
        created_at=registration.created_at,
    )


def ws_response(registration: Registration) -> WsIntegrationResponse:
    return WsIntegrationResponse(capabilities=_caps(registration),
                                 created_at=registration.created_at)


class Registry:
    """Registrations of every scope, kept in the platform database."""

    def __init__(self, store: Store, *, cache_ttl: float | None = None) -> None:
        self.store = store
        # Every invocation asks which registration offers a capability; reading the database
        # each time capped invocations at a few hundred a second. So the cache is filled on first
        # use and dropped on every PUT of the scope. In one process that is exact. With several
        # workers another one may have written: ``on_change`` tells them (the container sends it
        # over the bus, and they call :meth:`invalidate`), and ``cache_ttl`` bounds how long an
        # entry lives in case such a notice is lost (the bus was down when it was sent).
        self.cache_ttl = cache_ttl
        self.on_change: Callable[[Scope], Awaitable[None]] | None = None
        #: Per scope: when read, its registrations, and :meth:`offering`'s answers made from them.
        self._cache: dict[Scope, tuple[float, list[Registration],
                                       dict[str, dict[str, Registration]]]] = {}

    async def _cached(self, scope: Scope) -> tuple[float, list[Registration],
                                                   dict[str, dict[str, Registration]]]:
        now = time.monotonic()
        cached = self._cache.get(scope)
        if cached is None or (self.cache_ttl is not None and now - cached[0] > self.cache_ttl):
            cached = self._cache[scope] = (now, await self.store.registrations(scope), {})
        return cached

    async def registrations(self, scope: Scope) -> list[Registration]:
        """The scope's registrations (cached; see ``__init__``)."""
        return (await self._cached(scope))[1]

    def invalidate(self, scope: Scope | None = None) -> None:
        """Forget the cached registrations of ``scope`` (of every scope when None)."""
        if scope is None:
            self._cache.clear()
        else:
            self._cache.pop(scope, None)

    async def _changed(self, scope: Scope) -> None:
        self._cache.pop(scope, None)
        if self.on_change is not None:
            try:
                await self.on_change(scope)
            except Exception:  # the registration is stored; other workers' caches expire
                log.warning("%s: could not tell the other workers of the new registration",
                            scope, exc_info=True)

    async def capability_names(self, scope: Scope, transport: str | None = None) -> set[str]:
        """Canonical names of the capabilities the scope registered (on ``transport``, or any).

        Names are stored as sent (aliases included); this answers with catalogue names, so a
        caller asks "is GetOrderById registered" whatever alias the EPOS used.
        """
        names: set[str] = set()
        for registration in await self.registrations(scope):
            if transport is not None and registration.transport != transport:
                continue
            for item in registration.capabilities:
                try:
                    names.add(lookup(item.name).name)
                except UnknownCapability:  # registered under an older catalogue; not usable
                    continue
        return names

    async def put_rest(self, caller: Caller, body: Any) -> RestIntegrationResponse:
        request: RestIntegrationRequest = _validate(RestIntegrationRequest, body)
        try:
            _base, cut = rest_base(request.url)
        except ValueError as exc:
            raise ApiError(400, "invalid_url", f"url: {exc}") from None
        pairs = check_capabilities(request.capabilities)
        if cut:
            log.warning("registered url %s carries a spec path; using the part before /v1/ "
                        "as the base (spec defect #40)", request.url)
        basic = request.auth.basic
        self._cache.pop(caller.scope, None)
        saved = await self.store.replace_registration(
            caller.scope, REST, pairs, url=request.url.strip(), username=basic.username,
            password=basic.password, reseller_id=caller.reseller_id)
        await self._changed(caller.scope)
        log.info("%s registered %d REST capabilities at %s as user %s", caller.scope,
                 len(pairs), request.url, basic.username)
        return rest_response(saved)

    async def put_ws(self, caller: Caller, body: Any) -> WsIntegrationResponse:
        request: WsIntegrationRequest = _validate(WsIntegrationRequest, body)
        pairs = check_capabilities(request.capabilities)
        self._cache.pop(caller.scope, None)
        saved = await self.store.replace_registration(
            caller.scope, WS, pairs, reseller_id=caller.reseller_id)
        await self._changed(caller.scope)
        log.info("%s registered %d WebSocket capabilities", caller.scope, len(pairs))
        return ws_response(saved)

    async def rest(self, scope: Scope) -> list[RestIntegrationResponse]:
        found = await self.store.registration(scope, REST)
        return [] if found is None else [rest_response(found)]

    async def ws(self, scope: Scope) -> list[WsIntegrationResponse]:
        found = await self.store.registration(scope, WS)
        return [] if found is None else [ws_response(found)]

    async def dojo_managed(self, scope: Scope) -> list[DojoManagedIntegrationResponse]:
        """Integrations Dojo runs itself for the account: the local platform runs none."""
        return []

    async def all(self, scope: Scope) -> AllIntegrationsResponse:
        return AllIntegrationsResponse(
            rest_integrations=await self.rest(scope),
            ws_integrations=await self.ws(scope),
            dojo_managed_integrations=await self.dojo_managed(scope),
        )

    async def offering(self, scope: Scope, capability: Capability) -> dict[str, Registration]:
        """The scope's registrations (by transport) that list ``capability`` under any alias.

        Asked on every invocation: kept with the cached registrations (do not change it)."""
        _at, registrations, offerings = await self._cached(scope)
        known = offerings.get(capability.name)
        if known is not None:
            return known
        found: dict[str, Registration] = {}
        offerings[capability.name] = found
        for registration in registrations:
            for item in registration.capabilities:
                try:
                    if lookup(item.name) is capability:
                        found[registration.transport] = registration
                except UnknownCapability:  # pragma: no cover - only checked names are stored
                    continue
        return found
