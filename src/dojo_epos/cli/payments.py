"""``dojo-epos payments`` and ``dojo-epos webhooks``: what a till calls on the Dojo API.

Against the local platform (``--api-url http://127.0.0.1:8000``) or, with real keys, Dojo (the
default URL). Amounts are written as money (``5.00``, ``12``) in the intent's currency and sent in
minor units. ``get`` prints the intent as JSON; the others print one line or a table.
"""

from __future__ import annotations

import functools
import json
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from dojo_epos.cli.common import ApiKey, ApiUrl, Reseller, SoftwareHouse, fail, out
from dojo_epos.cli.register import api_call, client_for
from dojo_epos.settings import DEFAULT_API_URL

__all__ = ["payments_app", "webhooks_app"]

payments_app = typer.Typer(no_args_is_help=True, help="Payment intents: read, search, refund, reverse.")
webhooks_app = typer.Typer(no_args_is_help=True, help="Webhook subscriptions and their secrets.")

Key = Annotated[str | None, typer.Option(
    "--idempotency-key", help="Reuse a key to make a retry safe (default: a new one).")]


def minor_units(text: str) -> int:
    """``"5.00"`` -> 500; refuses what is not a positive amount with at most two decimals."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise fail(f"{text!r} is not an amount (write it as 5.00)") from None
    pence = value * 100
    if not value.is_finite() or pence != pence.to_integral_value() or value <= 0:
        raise fail(f"{text!r} is not a positive amount with at most two decimals")
    return int(pence)


def _money(minor: int, currency: str) -> str:
    return f"{Decimal(minor) / 100:.2f} {currency}"


def _json(model: BaseModel | list[Any]) -> str:
    data = ([m.model_dump(mode="json", by_alias=True, exclude_none=True) for m in model]
            if isinstance(model, list) else model.model_dump(mode="json", by_alias=True,
                                                             exclude_none=True))
    return json.dumps(data, indent=2)


# -- payments -------------------------------------------------------------------------------------


@payments_app.command("get")
def payments_get(intent_id: str, api_key: ApiKey, software_house_id: SoftwareHouse,
                 api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """A payment intent, as JSON."""
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        intent = api_call(lambda: client.get_payment_intent(intent_id))
    out.print_json(_json(intent))


@payments_app.command("search")
def payments_search(
    api_key: ApiKey, software_house_id: SoftwareHouse,
    status: Annotated[list[str] | None, typer.Option("--status", help="Only this status (repeatable).")]
    = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Intents per page.")] = 50,
    after: Annotated[str | None, typer.Option(help="The page after this cursor.")] = None,
    api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None,
) -> None:
    """Payment intents, newest first, as a table (the next page's cursor underneath)."""
    from rich.table import Table

    from dojo_epos.contract.models import PaymentIntentStatus

    known = {s.value for s in PaymentIntentStatus}
    for wanted in status or ():
        if wanted not in known:
            raise fail(f"unknown status {wanted!r}; one of {', '.join(sorted(known))}")
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        page = api_call(lambda: client.search_payment_intents(status or (), limit, after))
    table = Table("id", "status", "total", "refunded", "order", "waiter", "created")
    for intent in page.data:
        currency = intent.total_amount.currency_code
        table.add_row(intent.id, intent.status.value, _money(intent.total_amount.value, currency),
                      _money(intent.refunded_amount, currency),
                      intent.order_details.external_id if intent.order_details else "",
                      (intent.metadata or {}).get("waiterId", ""), intent.created_at.isoformat())
    out.print(table)
    if page.after:
        out.print(f"next page: --after {page.after}")


@payments_app.command("refund")
def payments_refund(
    intent_id: str,
    amount: Annotated[str, typer.Argument(help="How much to refund, e.g. 5.00.")],
    api_key: ApiKey, software_house_id: SoftwareHouse,
    reason: Annotated[str | None, typer.Option(help="Why (refundReason).")] = None,
    notes: Annotated[str | None, typer.Option(help="Notes kept with the refund.")] = None,
    idempotency_key: Key = None,
    api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None,
) -> None:
    """Refund part or all of a captured payment."""
    minor = minor_units(amount)
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        refund = api_call(lambda: client.refund_payment_intent(
            intent_id, minor, idempotency_key=idempotency_key, reason=reason, notes=notes))
        intent = api_call(lambda: client.get_payment_intent(intent_id))
    currency = intent.total_amount.currency_code
    out.print(f"refund {refund.refund_id}: {_money(minor, currency)} of {intent_id}; "
              f"refunded {_money(intent.refunded_amount, currency)} of "
              f"{_money(intent.total_amount.value, currency)}, status {intent.status.value}",
              highlight=False)


@payments_app.command("reverse")
def payments_reverse(intent_id: str, api_key: ApiKey, software_house_id: SoftwareHouse,
                     idempotency_key: Key = None, api_url: ApiUrl = DEFAULT_API_URL,
                     reseller_id: Reseller = None) -> None:
    """Void a payment that is not settled yet (after settlement, refund it)."""
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        reversal = api_call(lambda: client.reverse_payment_intent(
            intent_id, idempotency_key=idempotency_key))
    out.print(f"reversal {reversal.reversal_id}: {intent_id} {reversal.message}", highlight=False)


# -- webhooks -------------------------------------------------------------------------------------

Events = Annotated[list[str] | None, typer.Option(
    "--event", help="Event to receive (repeatable; default payment_intent.status_updated).")]


@webhooks_app.command("events")
def webhooks_events(api_key: ApiKey, software_house_id: SoftwareHouse,
                    api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """The event types one can subscribe to."""
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        for group in api_call(client.webhook_events):
            for event in group.events:
                out.print(f"{group.model}: {event}", highlight=False)


@webhooks_app.command("list")
def webhooks_list(api_key: ApiKey, software_house_id: SoftwareHouse,
                  api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """The account's subscriptions, as JSON (secrets included: they are yours)."""
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        out.print_json(_json(api_call(client.webhook_subscriptions)))


@webhooks_app.command("subscribe")
def webhooks_subscribe(url: str, api_key: ApiKey, software_house_id: SoftwareHouse,
                       event: Events = None, api_url: ApiUrl = DEFAULT_API_URL,
                       reseller_id: Reseller = None) -> None:
    """Subscribe a URL; prints the subscription id and its active secret."""
    events = event or ["payment_intent.status_updated"]
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        sub = api_call(lambda: client.subscribe_webhook(url, events))
    active = next((s for s in sub.secrets if s.is_active), None)
    out.print(f"subscription {sub.id} -> {sub.url} ({', '.join(sub.events)})", highlight=False)
    if active is not None:
        out.print(f"secret {active.id}: {active.value}", highlight=False)


@webhooks_app.command("update")
def webhooks_update(subscription_id: str, api_key: ApiKey, software_house_id: SoftwareHouse,
                    url: Annotated[str | None, typer.Option(help="The new URL.")] = None,
                    event: Events = None, api_url: ApiUrl = DEFAULT_API_URL,
                    reseller_id: Reseller = None) -> None:
    """Change a subscription's URL or events."""
    if url is None and not event:
        raise fail("say what to change: --url and/or --event")
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        sub = api_call(lambda: client.update_webhook(subscription_id, url=url, events=event))
    out.print(f"subscription {sub.id} -> {sub.url} ({', '.join(sub.events)})", highlight=False)


@webhooks_app.command("delete")
def webhooks_delete(subscription_id: str, api_key: ApiKey, software_house_id: SoftwareHouse,
                    api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """Delete a subscription."""
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        api_call(lambda: client.delete_webhook(subscription_id))
    out.print(f"deleted {subscription_id}", highlight=False)


@webhooks_app.command("secrets")
def webhooks_secrets(subscription_id: str, api_key: ApiKey, software_house_id: SoftwareHouse,
                     api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """A subscription's secrets (the active one signs deliveries)."""
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        held = api_call(lambda: client.webhook_secrets(subscription_id))
    for secret in held.secrets:
        out.print(f"{secret.id} {'active' if secret.is_active else 'inactive'} {secret.value}",
                  highlight=False)


@webhooks_app.command("rotate")
def webhooks_rotate(subscription_id: str, api_key: ApiKey, software_house_id: SoftwareHouse,
                    api_url: ApiUrl = DEFAULT_API_URL, reseller_id: Reseller = None) -> None:
    """Make a new secret, activate it, delete the old one; prints the new secret."""
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        before = api_call(lambda: client.webhook_secrets(subscription_id))
        for stale in [s.id for s in before.secrets if not s.is_active]:
            api_call(functools.partial(client.delete_webhook_secret, subscription_id, stale))
        after = api_call(lambda: client.new_webhook_secret(subscription_id))
        old = {s.id for s in before.secrets}
        new = next(s for s in after.secrets if s.id not in old)
        api_call(lambda: client.activate_webhook_secret(subscription_id, new.id))
        for retired in [s.id for s in after.secrets if s.id != new.id]:
            api_call(functools.partial(client.delete_webhook_secret, subscription_id, retired))
    out.print(f"secret {new.id}: {new.value}", highlight=False)
