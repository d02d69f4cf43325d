"""What the payment flows use of the payments service, bound to the run's scope."""

from __future__ import annotations

from dojo_epos.contract import payments as p
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.payments import Payments
from dojo_epos.platform.payments.delivery import Attempt, event_body

__all__ = ["FlowPayments"]


class FlowPayments:
    """The run's account on the payments service: intents, refunds, subscriptions, deliveries."""

    def __init__(self, payments: Payments, scope: Scope) -> None:
        self.payments = payments
        self.scope = scope

    async def intent(self, intent_id: str) -> p.PaymentIntent:
        return await self.payments.intents.get(self.scope, intent_id)

    async def latest_captured(self) -> p.PaymentIntent | None:
        """The newest Captured intent of the account, if any."""
        from dojo_epos.contract.models import PaymentIntentStatus

        page = await self.payments.intents.search(self.scope, p.SearchPaymentIntentRequest(
            statuses=[PaymentIntentStatus.CAPTURED], cursor=p.Cursor(limit=1)))
        return page.data[0] if page.data else None

    async def refund(self, intent_id: str, amount: int, key: str) -> p.Refund:
        request = p.CreateRefundRequest(amount=amount, refund_reason="tester: Refund flow")
        return await self.payments.intents.refund(self.scope, intent_id, key, request)

    async def subscription_for(self, url: str, event: str) -> tuple[p.Subscription, bool]:
        """The subscription of ``url`` (made for the run when there is none, and then True)."""
        for found in await self.payments.subscriptions.all_of(self.scope):
            if found.url == url:
                if event not in found.events:
                    found = await self.payments.subscriptions.update(
                        self.scope, found.id,
                        p.SubscriptionUpdateRequest(events=[*found.events, event]))
                return found, False
        made = await self.payments.subscriptions.subscribe(
            self.scope, p.SubscriptionRequest(events=[event], url=url))
        return made, True

    async def unsubscribe(self, subscription_id: str) -> None:
        await self.payments.subscriptions.remove(self.scope, subscription_id)

    async def deliver_twice(self, subscription: p.Subscription, event_type: str,
                            intent: p.PaymentIntent) -> tuple[str, list[Attempt]]:
        """One event delivered twice under its id (no retries): the event id and both attempts."""
        event = event_body(self.scope, event_type, intent)
        attempts = []
        for _ in range(2):
            attempts += await self.payments.deliverer.deliver(self.scope, subscription, event,
                                                              retry=False)
        return event.id, attempts

    async def deliver_forged(self, subscription: p.Subscription, event_type: str,
                             intent: p.PaymentIntent) -> tuple[str, Attempt]:
        """A new event for ``intent`` signed with a wrong secret, once: its id and the attempt."""
        event = event_body(self.scope, event_type, intent)
        (attempt,) = await self.payments.deliverer.deliver(self.scope, subscription, event,
                                                           retry=False, forged=True)
        return event.id, attempt
