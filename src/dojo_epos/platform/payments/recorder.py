"""The payment intents of the payments EPOSes record, whoever took them.

Every card payment the platform takes reaches the EPOS through the invoker: the virtual terminal's
and the Pay at Table flows' ``RecordOrderPayment``, and the payments an Order & Pay ``CreateOrder``
carries. :class:`PaymentRecorder` observes the invoker (:data:`~dojo_epos.platform.invoke.
CallObserver`) and, for each such call the EPOS accepted, creates the payment intent: the intent id
the EPOS was given, the amount and tip, the order in ``orderDetails.externalId`` and the waiter (the
``waiter-id`` header) in ``metadata.waiterId``. A repeat with the same intent id (a retry, a double
tap) finds the intent there and changes nothing. The intent is written in the background, so the
call does not wait for the database (see :meth:`~.intents.PaymentIntents.record_later`).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import UnknownCapability, lookup
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.outcome import InvocationResult

from .intents import PaymentIntents

__all__ = ["PaymentRecorder"]

log = logging.getLogger("dojo_epos.platform.payments")


def _recorded_payment(outcome: InvocationResult, wire: dict[str, Any]
                      ) -> tuple[str | None, list[m.Payment]]:
    """RecordOrderPayment: the order and the one payment its params carry."""
    params = m.RecordOrderPaymentParams.model_validate(wire)
    return params.order_id, [m.Payment(payment_intent_id=params.payment_intent_id,
                                       paid_amount=params.paid_amount,
                                       tips_amount=params.tips_amount)]


def _created_order(outcome: InvocationResult, wire: dict[str, Any]
                   ) -> tuple[str | None, list[m.Payment]]:
    """CreateOrder: the order the EPOS created and the payments the params carry."""
    if not isinstance(outcome.result, m.Order):
        return None, []
    return outcome.result.id, list(m.CreateOrderParams.model_validate(wire).payments or ())


#: The capabilities whose accepted calls carry payments, and how to read them (the params may be
#: anything a tester sent: a ValidationError means no payment).
_PAYING = {"RecordOrderPayment": _recorded_payment, "CreateOrder": _created_order}


class PaymentRecorder:
    """Creates an intent for each payment an EPOS accepted (an invoker observer)."""

    def __init__(self, intents: PaymentIntents) -> None:
        self.intents = intents

    async def __call__(self, scope: Scope, outcome: InvocationResult, wire: dict[str, Any]) -> None:
        try:
            name = lookup(outcome.capability).name
        except UnknownCapability:
            return
        read = _PAYING.get(name)
        if read is None:  # most calls are reads: nothing to look at (the invoke hot path)
            return
        headers = wire.get("headers") if isinstance(wire.get("headers"), dict) else {}
        assert isinstance(headers, dict)
        waiter = headers.get("waiterId") if isinstance(headers.get("waiterId"), str) else None
        product = headers.get("dojoRequestingProduct")
        product = product if isinstance(product, str) else None
        try:
            order_id, payments = read(outcome, wire)
        except ValidationError:  # a tester sent bad input on purpose and the EPOS took it
            log.info("%s: %s accepted params that are not a payment; no intent", scope, name)
            return
        if payments:
            self.intents.record_later(scope, [
                {"intent_id": payment.payment_intent_id, "order_id": order_id,
                 "amount": payment.paid_amount.value,
                 "tips": payment.tips_amount.value if payment.tips_amount else 0,
                 "currency": payment.paid_amount.currency_code, "waiter_id": waiter,
                 "product": product}
                for payment in payments])
