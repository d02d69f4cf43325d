"""Webhook subscriptions and their secrets (``/webhooks...``), per account.

A subscription names an https URL (locally also http to a loopback host: see
:func:`~dojo_epos.contract.payments.check_webhook_url`) and the events it wants, from
``GET /webhooks/events``. It is created with one active secret; ``POST .../secrets`` adds an
inactive one (at most :data:`MAX_SECRETS` in all), ``PUT .../activate`` makes it the one deliveries
are signed with, and the inactive one can then be deleted: a rotation without a gap. The active
secret cannot be deleted (409): deliveries would have nothing to be signed with.

One URL is subscribed once per account (409 for a second subscription to it; PATCH the first).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select, update

from dojo_epos.contract import payments as p
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.egress import refused_host
from dojo_epos.platform.store import utc_now

from .rules import PaymentProblem, not_found
from .store import PaymentStore
from .tables import scope_values, scoped
from .tables import secrets as secrets_table
from .tables import subscriptions as subs

__all__ = ["MAX_SECRETS", "Subscriptions", "account_id", "known_events"]

#: Secrets one subscription may hold at once (the active one and the next).
MAX_SECRETS = 2


def known_events() -> list[p.WebhookEvents]:
    return [p.WebhookEvents(model=model, events=list(events))
            for model, events in p.EVENT_MODELS.items()]


def account_id(scope: Scope) -> str:
    """The account id the platform shows for a scope (in subscriptions and events)."""
    return f"acc_{scope.key_fingerprint}"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _check(events: list[str] | None, url: str | None) -> None:
    allowed = {e for group in p.EVENT_MODELS.values() for e in group}
    for index, event in enumerate(events or ()):
        if event not in allowed:
            raise PaymentProblem(400, "One or more validation errors occurred.",
                                 f"unknown event {event!r}; GET /webhooks/events lists them",
                                 {f"events[{index}]": [f"Unknown event {event!r}."]})
    if url is not None:
        host = urlsplit(url).hostname or ""
        refused = refused_host(host)
        if refused or not host:
            raise PaymentProblem(400, "One or more validation errors occurred.",
                                 f"url points at {refused or 'no host'}, which the platform never calls",
                                 {"url": ["The url is not allowed."]})


class Subscriptions:
    """Subscriptions and secrets in the platform database."""

    def __init__(self, store: PaymentStore) -> None:
        self.store = store
        self.engine = store.engine

    async def all_of(self, scope: Scope) -> list[p.Subscription]:
        await self.store.start()
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(subs).where(scoped(subs, scope))
                                       .order_by(subs.c.created_at, subs.c.id))).mappings().all()
        return [await self._model(scope, dict(r)) for r in rows]

    async def for_event(self, scope: Scope, event_type: str) -> list[p.Subscription]:
        return [s for s in await self.all_of(scope) if event_type in s.events]

    async def get(self, scope: Scope, subscription_id: str) -> p.Subscription:
        return await self._model(scope, await self._row(scope, subscription_id))

    async def subscribe(self, scope: Scope, request: p.SubscriptionRequest) -> p.Subscription:
        _check(request.events, request.url)
        if any(s.url == request.url for s in await self.all_of(scope)):
            raise PaymentProblem(409, "Conflict",
                                 "this url is subscribed already; PATCH that subscription instead")
        now = _iso(utc_now())
        ident = f"ws_{secrets.token_urlsafe(18)}"
        async with self.engine.begin() as conn:
            await conn.execute(insert(subs).values(
                **scope_values(scope), id=ident, url=request.url, events=list(request.events),
                created_at=now, updated_at=now))
            await conn.execute(insert(secrets_table).values(_new_secret(ident, active=True)))
        return await self.get(scope, ident)

    async def update(self, scope: Scope, subscription_id: str,
                     request: p.SubscriptionUpdateRequest) -> p.Subscription:
        await self._row(scope, subscription_id)
        _check(request.events, request.url)
        values: dict[str, Any] = {"updated_at": _iso(utc_now())}
        if request.events is not None:
            values["events"] = list(request.events)
        if request.url is not None:
            if any(s.url == request.url and s.id != subscription_id for s in await self.all_of(scope)):
                raise PaymentProblem(409, "Conflict", "another subscription has this url")
            values["url"] = request.url
        async with self.engine.begin() as conn:
            await conn.execute(update(subs).where(scoped(subs, scope), subs.c.id == subscription_id)
                               .values(**values))
        return await self.get(scope, subscription_id)

    async def remove(self, scope: Scope, subscription_id: str) -> None:
        await self._row(scope, subscription_id)
        async with self.engine.begin() as conn:
            await conn.execute(delete(subs).where(scoped(subs, scope), subs.c.id == subscription_id))
            await conn.execute(delete(secrets_table).where(
                secrets_table.c.subscription_id == subscription_id))

    # -- secrets ------------------------------------------------------------------------------

    async def secrets(self, scope: Scope, subscription_id: str) -> p.SecretsResponse:
        found = await self.get(scope, subscription_id)
        return p.SecretsResponse(id=found.id, secrets=found.secrets)

    async def new_secret(self, scope: Scope, subscription_id: str) -> p.SecretsResponse:
        found = await self.get(scope, subscription_id)
        if len(found.secrets) >= MAX_SECRETS:
            raise PaymentProblem(409, "Conflict",
                                 f"a subscription holds at most {MAX_SECRETS} secrets; delete the "
                                 "inactive one first")
        async with self.engine.begin() as conn:
            await conn.execute(insert(secrets_table).values(_new_secret(subscription_id, active=False)))
        return await self.secrets(scope, subscription_id)

    async def activate(self, scope: Scope, subscription_id: str, secret_id: str) -> None:
        await self._secret(scope, subscription_id, secret_id)
        owned = secrets_table.c.subscription_id == subscription_id
        async with self.engine.begin() as conn:
            await conn.execute(update(secrets_table).where(owned).values(is_active=False))
            await conn.execute(update(secrets_table).where(owned, secrets_table.c.id == secret_id)
                               .values(is_active=True))

    async def remove_secret(self, scope: Scope, subscription_id: str, secret_id: str) -> None:
        secret = await self._secret(scope, subscription_id, secret_id)
        if secret.is_active:
            raise PaymentProblem(409, "Conflict",
                                 "this is the active secret; activate another one before deleting it")
        async with self.engine.begin() as conn:
            await conn.execute(delete(secrets_table).where(secrets_table.c.id == secret_id))

    async def active_secret(self, scope: Scope, subscription_id: str) -> str | None:
        found = await self.get(scope, subscription_id)
        return next((s.value for s in found.secrets if s.is_active), None)

    # -- rows ---------------------------------------------------------------------------------

    async def _row(self, scope: Scope, subscription_id: str) -> dict[str, Any]:
        await self.store.start()
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(subs).where(
                scoped(subs, scope), subs.c.id == subscription_id))).mappings().first()
        if row is None:
            raise not_found("webhook subscription", subscription_id)
        return dict(row)

    async def _secret(self, scope: Scope, subscription_id: str, secret_id: str) -> p.SubscriptionSecret:
        found = await self.get(scope, subscription_id)
        for secret in found.secrets:
            if secret.id == secret_id:
                return secret
        raise not_found("secret", secret_id)

    async def _model(self, scope: Scope, row: dict[str, Any]) -> p.Subscription:
        async with self.engine.connect() as conn:
            held = (await conn.execute(select(secrets_table).where(
                secrets_table.c.subscription_id == row["id"]).order_by(
                    secrets_table.c.created_at, secrets_table.c.id))).mappings().all()
        return p.Subscription(
            id=row["id"], account_id=account_id(scope), events=list(row["events"]), url=row["url"],
            secrets=[p.SubscriptionSecret(id=s["id"], value=s["value"], is_active=bool(s["is_active"]),
                                          created_at=datetime.fromisoformat(
                                              s["created_at"].replace("Z", "+00:00")))
                     for s in held],
            created_at=datetime.fromisoformat(row["created_at"].replace("Z", "+00:00")),
            updated_at=datetime.fromisoformat(row["updated_at"].replace("Z", "+00:00")))


def _new_secret(subscription_id: str, *, active: bool) -> dict[str, Any]:
    return {"id": f"sc_{secrets.token_urlsafe(16)}", "subscription_id": subscription_id,
            "value": secrets.token_urlsafe(48), "is_active": active,
            "created_at": _iso(utc_now())}
