"""The state rules of a payment intent, pure: what a refund, reversal or capture may do.

* A **capture** needs an ``Authorized`` intent (capture mode ``Manual``); it captures at most the
  authorized amount (tips may be added) and makes the intent ``Captured``.
* A **refund** needs a ``Captured`` intent (or a partly refunded one); refunds add up and never pass
  what was captured, tips included. When they reach it, the intent becomes ``Refunded``.
* A **reversal** voids a payment before it is settled: an ``Authorized`` intent, or a ``Captured``
  one with no refund yet and not settled (the local platform settles an intent ``settle_after``
  seconds after its capture, a day by default). The intent becomes ``Reversed``. After settlement
  the answer is 409: refund instead.

A refusal is a :class:`PaymentProblem`, turned into the document's problem details by the HTTP layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dojo_epos.contract.models import PaymentIntentStatus as S

__all__ = [
    "IntentState",
    "PaymentProblem",
    "check_capture",
    "check_refund",
    "check_reversal",
    "status_after_refund",
]


class PaymentProblem(Exception):
    """A refused request: the HTTP status, a short title, the detail and any field errors."""

    def __init__(self, status: int, title: str, detail: str,
                 errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors


def not_found(what: str, ident: str) -> PaymentProblem:
    return PaymentProblem(404, "Not Found", f"no {what} {ident!r} on this account")


@dataclass(frozen=True, slots=True)
class IntentState:
    """What the rules look at."""

    status: S
    amount: int
    captured: int
    refunded: int
    settled: bool
    currency: str = "GBP"
    history: tuple[str, ...] = field(default=())


def check_refund(state: IntentState, amount: int) -> None:
    if amount <= 0:
        raise PaymentProblem(400, "One or more validation errors occurred.",
                             "amount must be a positive number of minor units",
                             {"amount": ["The amount must be greater than 0."]})
    if state.status not in (S.CAPTURED,):
        raise PaymentProblem(400, "Refund not allowed",
                             f"the payment intent is {state.status.value}; only a Captured payment "
                             "can be refunded")
    left = state.captured - state.refunded
    if amount > left:
        raise PaymentProblem(400, "Refund exceeds the captured amount",
                             f"{amount} asked, {left} of {state.captured} left to refund "
                             f"({state.refunded} already refunded; minor units of "
                             f"{state.currency})")


def status_after_refund(state: IntentState, amount: int) -> S:
    return S.REFUNDED if state.refunded + amount >= state.captured else state.status


def check_reversal(state: IntentState) -> None:
    if state.status is S.AUTHORIZED:
        return
    if state.status is not S.CAPTURED:
        raise PaymentProblem(409, "Reversal not allowed",
                             f"the payment intent is {state.status.value}; only an Authorized or "
                             "an unsettled Captured payment can be reversed")
    if state.refunded:
        raise PaymentProblem(409, "Reversal not allowed",
                             "the payment intent has been partly refunded; refund the rest instead")
    if state.settled:
        raise PaymentProblem(409, "Reversal not allowed",
                             "the payment has been settled; refund it instead")


def check_capture(state: IntentState, amount: int, tips: int) -> None:
    if amount <= 0 or tips < 0:
        raise PaymentProblem(400, "One or more validation errors occurred.",
                             "amount must be positive and tipsAmount not negative",
                             {"amount": ["The amount must be greater than 0."]})
    if state.status is not S.AUTHORIZED:
        raise PaymentProblem(409, "Capture not allowed",
                             f"the payment intent is {state.status.value}; only an Authorized "
                             "payment (capture mode Manual) can be captured")
    if amount > state.amount:
        raise PaymentProblem(400, "Capture exceeds the authorized amount",
                             f"{amount} asked, {state.amount} {state.currency} authorized")
