"""Payment intents: created by the payments the platform takes, read, refunded, reversed, captured.

Every payment the virtual terminal or a tester flow records on an EPOS gets an intent (the intent
id the EPOS was given, the order in ``orderDetails.externalId``, the waiter in ``metadata.waiterId``);
:meth:`PaymentIntents.record_payment` is idempotent by intent id, as a double-tapped payment is.

Refunds, reversals and captures follow :mod:`.rules`; each is idempotent by its ``IdempotencyKey``
(the same key and body give the original answer again, the same key with another body is refused
with 400), and each change of status publishes ``payment_intent.status_updated``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel

from dojo_epos.contract import payments as p
from dojo_epos.contract.models import CaptureMode
from dojo_epos.contract.models import PaymentIntentStatus as S
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.store import utc_now

from .rules import (
    IntentState,
    PaymentProblem,
    check_capture,
    check_refund,
    check_reversal,
    not_found,
    status_after_refund,
)
from .store import DuplicateKey, OperationRow, PaymentStore, StaleIntent

__all__ = ["DAY", "PaymentIntents", "Publisher"]

log = logging.getLogger("dojo_epos.platform.payments")

#: Seconds from capture to settlement, by default (a daily batch).
DAY = 86_400.0
#: Re-reads of an intent that keeps changing under a request before it gives up with 409.
MAX_ATTEMPTS = 50

CREATED = "payment_intent.created"
STATUS_UPDATED = "payment_intent.status_updated"


class Publisher(Protocol):
    """Where intent events go (the webhooks service)."""

    async def publish(self, scope: Scope, event_type: str, intent: p.PaymentIntent) -> None: ...

    async def publish_all(self, scope: Scope, event_types: Sequence[str],
                          intent: p.PaymentIntent) -> None:
        """``publish`` of each event type in turn (the subscriptions read once)."""
        ...


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _body_hash(body: BaseModel | None) -> str:
    data = {} if body is None else body.model_dump(mode="json")
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _encode_cursor(row: dict[str, Any]) -> str:
    raw = f"{row['created_at']}|{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(text: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    created, sep, ident = raw.partition("|")
    if not sep or not ident:
        raise PaymentProblem(400, "One or more validation errors occurred.",
                             "cursor is not one this API returned", {"cursor": ["Invalid cursor."]})
    return created, ident


class PaymentIntents:
    """The payment-intent service of one platform."""

    def __init__(self, store: PaymentStore, publisher: Publisher, *, settle_after: float = DAY,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.publisher = publisher
        self.settle_after = settle_after
        self.clock = clock
        #: The latest background recording of each scope (see :meth:`record_later`).
        self._recording: dict[Scope, asyncio.Task[None]] = {}

    # -- recording in the background ----------------------------------------------------------

    def record_later(self, scope: Scope, payments: Sequence[dict[str, Any]]) -> None:
        """:meth:`record_payment` of each of ``payments`` (its keyword arguments) in the
        background, after the scope's earlier ones (so a repeat finds the first).

        The call that took the payment returns without waiting for the write (it cost a database
        transaction inside every payment call; benchmarks/bench_flows.py). Every read or change
        of the scope's intents through this service waits for it first (:meth:`settled`), so a
        caller on this worker never misses one; another worker may, for the few milliseconds the
        write takes. A failed write is logged, as it was when the call waited for it.
        """
        previous = self._recording.get(scope)
        task = asyncio.create_task(self._record_after(previous, scope, list(payments)),
                                   name=f"payment intents of {scope}")
        self._recording[scope] = task
        task.add_done_callback(lambda done: self._recorded(scope, done))

    async def _record_after(self, previous: asyncio.Task[None] | None, scope: Scope,
                            payments: list[dict[str, Any]]) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        for payment in payments:
            try:
                await self.record_payment(scope, **payment)
            except Exception:  # the EPOS took the payment; the intent's failure is only logged
                log.exception("%s: the intent of payment %s was not recorded", scope,
                              payment.get("intent_id"))

    def _recorded(self, scope: Scope, task: asyncio.Task[None]) -> None:
        if self._recording.get(scope) is task:
            del self._recording[scope]

    async def settled(self, scope: Scope) -> None:
        """Wait until the scope's payments handed to :meth:`record_later` are recorded."""
        task = self._recording.get(scope)
        if task is not None:
            await asyncio.wait([task])  # the last one of the scope: the earlier ones are done

    async def drain(self) -> None:
        """Wait until every payment handed to :meth:`record_later` is recorded."""
        while self._recording:
            await asyncio.wait(list(self._recording.values()))

    # -- creating -----------------------------------------------------------------------------

    async def record_payment(
        self, scope: Scope, *, intent_id: str, order_id: str | None, amount: int, tips: int = 0,
        currency: str = "GBP", waiter_id: str | None = None, product: str | None = None,
        capture_mode: CaptureMode = CaptureMode.AUTO,
    ) -> p.PaymentIntent:
        """The intent behind a card payment just taken (created once; a repeat returns it)."""
        now = _iso(self.clock())
        status = S.CAPTURED if capture_mode is CaptureMode.AUTO else S.AUTHORIZED
        history = [{"status": S.CREATED.value, "at": now}]
        if status is S.CAPTURED:
            history.append({"status": S.AUTHORIZED.value, "at": now})
        history.append({"status": status.value, "at": now})
        metadata = {"waiterId": waiter_id} if waiter_id else {}
        if product:
            metadata["requestingProduct"] = product
        data = {
            "metadata": metadata, "history": history, "captures": [],
            "paymentDetails": {
                "transactionId": secrets.token_hex(16), "transactionDateTime": now,
                "message": "AUTHORISED", "authCode": f"{secrets.randbelow(10**6):06d}",
                "card": {"cardNumber": "520000******1005", "cardType": "MASTERCARD",
                         "entryMode": "Contactless", "verificationMethod": "None"}},
        }
        captured = amount + tips if status is S.CAPTURED else 0
        row = {
            "id": intent_id, "status": status.value, "capture_mode": capture_mode.value,
            "currency": currency, "amount": amount, "tips": tips, "captured": captured,
            "refunded": 0, "order_id": order_id, "waiter_id": waiter_id, "data": data,
            "created_at": now, "updated_at": now,
            "captured_at": now if status is S.CAPTURED else None}
        created, stored = await self.store.insert_intent(scope, row)
        # Created: it is the row just written (reading it back cost a database round trip on every
        # payment an EPOS records, inside the call; benchmarks/bench_flows.py). A repeat: the stored
        # one, read in the insert's transaction.
        if not created:
            if stored is None:  # the id is another account's intent
                raise not_found("payment intent", intent_id)
            return self._model(stored)
        intent = self._model(row)
        await self.publisher.publish_all(scope, (CREATED, STATUS_UPDATED), intent)
        return intent

    # -- reading ------------------------------------------------------------------------------

    async def get(self, scope: Scope, intent_id: str, *, return_canceled: bool = False
                  ) -> p.PaymentIntent:
        await self.settled(scope)
        row = await self.store.intent(scope, intent_id)
        if row is None or (row["status"] == S.CANCELED.value and not return_canceled):
            raise not_found("payment intent", intent_id)
        return self._model(row)

    async def search(self, scope: Scope, request: p.SearchPaymentIntentRequest) -> p.PagedPaymentIntent:
        cursor = request.cursor or p.Cursor()
        if cursor.before and cursor.after:
            raise PaymentProblem(400, "One or more validation errors occurred.",
                                 "give cursor.before or cursor.after, not both",
                                 {"cursor": ["Only one of before and after may be set."]})
        await self.settled(scope)
        rows, more = await self.store.search(
            scope, statuses=[s.value for s in request.statuses or ()],
            start=_iso(request.start_date) if request.start_date else None,
            end=_iso(request.end_date) if request.end_date else None,
            after=_decode_cursor(cursor.after) if cursor.after else None,
            before=_decode_cursor(cursor.before) if cursor.before else None,
            limit=cursor.limit)
        paged = p.PagedPaymentIntent(data=[self._model(r) for r in rows])
        if rows:
            backwards = cursor.before is not None
            if more or backwards:
                paged.after = _encode_cursor(rows[-1])
            if cursor.after or (backwards and more):
                paged.before = _encode_cursor(rows[0])
        return paged

    async def get_refund(self, scope: Scope, refund_id: str) -> p.Refund:
        await self.settled(scope)
        found = await self.store.operation_by_id(scope, refund_id, "refund")
        if found is None:
            raise not_found("refund", refund_id)
        return p.Refund.model_validate(found.response)

    # -- changing -----------------------------------------------------------------------------

    async def refund(self, scope: Scope, intent_id: str, key: str,
                     request: p.CreateRefundRequest) -> p.Refund:
        def decide(row: dict[str, Any], state: IntentState) -> tuple[dict[str, Any], int, BaseModel]:
            check_refund(state, request.amount)
            status = status_after_refund(state, request.amount)
            answer = p.Refund(payment_intent_id=intent_id, refund_id=f"rfnd_{secrets.token_hex(12)}",
                              refund_reason=request.refund_reason, notes=request.notes)
            return ({"refunded": state.refunded + request.amount, "status": status.value},
                    request.amount, answer)

        return p.Refund.model_validate(
            await self._operate(scope, intent_id, "refund", key, request, decide))

    async def reverse(self, scope: Scope, intent_id: str, key: str | None) -> p.Reversal:
        def decide(row: dict[str, Any], state: IntentState) -> tuple[dict[str, Any], int, BaseModel]:
            check_reversal(state)
            answer = p.Reversal(message="Reversed", reversal_id=f"rvsl_{secrets.token_hex(12)}")
            return {"status": S.REVERSED.value}, state.captured or state.amount, answer

        return p.Reversal.model_validate(
            await self._operate(scope, intent_id, "reversal", key, None, decide))

    async def capture(self, scope: Scope, intent_id: str, key: str | None,
                      request: p.CreateCaptureRequest) -> p.Capture:
        tips = request.tips_amount or 0

        def decide(row: dict[str, Any], state: IntentState) -> tuple[dict[str, Any], int, BaseModel]:
            check_capture(state, request.amount, tips)
            answer = p.Capture(message="Captured", capture_id=f"cptr_{secrets.token_hex(12)}")
            captures = [*row["data"].get("captures", []), {
                "id": answer.capture_id, "amount": request.amount, "tipsAmount": tips,
                "status": "Successful", "createdAt": _iso(self.clock())}]
            return ({"status": S.CAPTURED.value, "captured": request.amount + tips, "tips": tips,
                     "captured_at": _iso(self.clock()), "data": {**row["data"], "captures": captures}},
                    request.amount + tips, answer)

        return p.Capture.model_validate(
            await self._operate(scope, intent_id, "capture", key, request, decide))

    async def _operate(
        self, scope: Scope, intent_id: str, kind: str, key: str | None, request: BaseModel | None,
        decide: Callable[[dict[str, Any], IntentState], tuple[dict[str, Any], int, BaseModel]],
    ) -> dict[str, Any]:
        body_hash = _body_hash(request)
        await self.settled(scope)
        if key is not None:
            earlier = await self.store.operation(scope, intent_id, kind, key)
            if earlier is not None:
                return _replay(earlier, body_hash)
        for _ in range(MAX_ATTEMPTS):
            row = await self.store.intent(scope, intent_id)
            if row is None:
                raise not_found("payment intent", intent_id)
            state = self._state(row)
            changes, amount, answer = decide(row, state)
            now = _iso(self.clock())
            new_status = changes.get("status", row["status"])
            if new_status != row["status"]:
                history = [*row["data"].get("history", []), {"status": new_status, "at": now}]
                changes["data"] = {**changes.get("data", row["data"]), "history": history}
            changes["updated_at"] = now
            response = answer.model_dump(mode="json", by_alias=True, exclude_none=True)
            operation = OperationRow(str(response.get(f"{kind}Id", "")), intent_id, kind, key,
                                     body_hash, amount, response)
            try:
                await self.store.apply(scope, intent_id, row["version"], changes, operation, now)
            except StaleIntent:
                continue
            except DuplicateKey:
                assert key is not None
                earlier = await self.store.operation(scope, intent_id, kind, key)
                if earlier is None:  # the id itself collided (1 in 2**96): let the caller retry
                    raise PaymentProblem(409, "Conflict", "try again") from None
                return _replay(earlier, body_hash)
            if new_status != row["status"]:
                await self.publisher.publish(scope, STATUS_UPDATED, await self.get(
                    scope, intent_id, return_canceled=True))
            return response
        raise PaymentProblem(409, "Conflict",
                             "the payment intent kept changing under this request; try again")

    # -- rows -> models -----------------------------------------------------------------------

    def _state(self, row: dict[str, Any]) -> IntentState:
        settled = False
        if row["captured_at"]:
            settled = _parse(row["captured_at"]) + timedelta(seconds=self.settle_after) <= self.clock()
        return IntentState(S(row["status"]), int(row["amount"]), int(row["captured"]),
                           int(row["refunded"]), settled, row["currency"])

    @staticmethod
    def _model(row: dict[str, Any]) -> p.PaymentIntent:
        currency = row["currency"]
        data = row["data"]
        amount, tips = int(row["amount"]), int(row["tips"])
        return p.PaymentIntent(
            id=row["id"], capture_mode=CaptureMode(row["capture_mode"]), status=S(row["status"]),
            payment_methods=["Card"],
            payment_details=p.PaymentDetails.model_validate(data.get("paymentDetails") or {}),
            amount=p.Money(value=amount, currency_code=currency),
            tips_amount=p.Money(value=tips, currency_code=currency) if tips else None,
            requested_amount=p.Money(value=amount, currency_code=currency),
            total_amount=p.Money(value=amount + tips, currency_code=currency),
            refunded_amount=int(row["refunded"]),
            created_at=_parse(row["created_at"]), updated_at=_parse(row["updated_at"]),
            reference=row["order_id"],
            metadata=data.get("metadata") or None,
            order_details=p.OrderDetails(external_id=row["order_id"]) if row["order_id"] else None,
            captures=[p.CaptureDetails.model_validate(c) for c in data.get("captures", [])] or None,
        )

    async def history(self, scope: Scope, intent_id: str) -> list[dict[str, str]]:
        """The intent's status changes, oldest first (shown by the dashboard and the CLI)."""
        await self.settled(scope)
        row = await self.store.intent(scope, intent_id)
        if row is None:
            raise not_found("payment intent", intent_id)
        return list(row["data"].get("history", []))


def _replay(earlier: OperationRow, body_hash: str) -> dict[str, Any]:
    if earlier.body_hash != body_hash:
        raise PaymentProblem(400, "Idempotency key reused",
                             "this IdempotencyKey was used for a different request on this payment "
                             "intent; use a new key for a new request")
    return earlier.response

