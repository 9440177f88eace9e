"""An in-memory ``PaymentGateway`` that behaves like Stripe where our code can tell the difference.

Idempotency keys replay the first answer (and refuse other parameters under the same key), refunds
never exceed what was received, and webhooks are Stripe-shaped JSON signed
``t=<unix>,v1=<hmac-sha256 of "t.payload">``. Tests drive the shopper's side
with ``succeed``/``fail`` and produce deliveries with ``event_for``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from application.ports.payments import (
    DisputeClosed,
    DisputeOpened,
    Payment,
    PaymentError,
    PaymentEvent,
    PaymentFailed,
    PaymentNotice,
    PaymentRequest,
    PaymentStatus,
    PaymentSucceeded,
    Refund,
    WebhookRejected,
)

__all__ = ["MemoryPaymentGateway"]

_CANCELABLE = frozenset({PaymentStatus.PENDING, PaymentStatus.FAILED})


@dataclass(slots=True)
class _Record:
    payment: Payment
    refunded: int = 0


class MemoryPaymentGateway:
    name = "memory"

    def __init__(self, webhook_secret: str, *, tolerance_seconds: int = 300) -> None:
        self._secret = webhook_secret.encode()
        self._tolerance = tolerance_seconds
        self._records: dict[str, _Record] = {}
        self._created_by_key: dict[str, tuple[PaymentRequest, str]] = {}
        self._refunds_by_key: dict[str, tuple[tuple[str, int], Refund]] = {}

    async def create(self, request: PaymentRequest) -> Payment:
        if request.idempotency_key in self._created_by_key:
            first, reference = self._created_by_key[request.idempotency_key]
            if first != request:
                raise PaymentError("idempotency key reused with different parameters")
            return self._records[reference].payment
        if request.amount <= 0:
            raise PaymentError("amount must be positive")
        reference = f"pi_mem_{uuid.uuid4().hex[:20]}"
        payment = Payment(
            provider=self.name,
            reference=reference,
            status=PaymentStatus.PENDING,
            amount=request.amount,
            currency=request.currency.upper(),
            client_secret=f"{reference}_secret_{uuid.uuid4().hex[:16]}",
            order_id=request.order_id,
        )
        self._records[reference] = _Record(payment)
        self._created_by_key[request.idempotency_key] = (request, reference)
        return payment

    async def retrieve(self, reference: str) -> Payment:
        return self._record(reference).payment

    async def cancel(self, reference: str) -> Payment:
        record = self._record(reference)
        if record.payment.status not in _CANCELABLE:
            raise PaymentError(f"cannot cancel a payment that is {record.payment.status.value}")
        record.payment = replace(record.payment, status=PaymentStatus.CANCELED)
        return record.payment

    async def refund(self, reference: str, *, amount: int, idempotency_key: str) -> Refund:
        if idempotency_key in self._refunds_by_key:
            first, earlier = self._refunds_by_key[idempotency_key]
            if first != (reference, amount):
                raise PaymentError("idempotency key reused with different parameters")
            return earlier
        record = self._record(reference)
        if record.payment.status is not PaymentStatus.SUCCEEDED:
            raise PaymentError(f"cannot refund a payment that is {record.payment.status.value}")
        if amount <= 0:
            raise PaymentError("refund amount must be positive")
        if record.refunded + amount > record.payment.amount_received:
            raise PaymentError(
                f"refund of {amount} exceeds the {record.payment.amount_received - record.refunded} left to refund"
            )
        record.refunded += amount
        refund = Refund(
            reference=f"re_mem_{uuid.uuid4().hex[:20]}",
            payment_reference=reference,
            amount=amount,
            status="succeeded",
        )
        self._refunds_by_key[idempotency_key] = ((reference, amount), refund)
        return refund

    def verify_webhook(self, payload: bytes, signature: str | None) -> PaymentEvent:
        timestamp, signatures = _parse_signature_header(signature)
        expected = self._sign(timestamp, payload)
        if not any(hmac.compare_digest(expected, s) for s in signatures):
            raise WebhookRejected("webhook signature does not verify")
        if abs(datetime.now(UTC).timestamp() - timestamp) > self._tolerance:
            raise WebhookRejected("webhook timestamp outside the tolerance")
        try:
            event = json.loads(payload)
            obj = event["data"]["object"]
            return _translated(event["type"], obj, {
                "id": event["id"],
                "type": event["type"],
                "created": datetime.fromtimestamp(event["created"], UTC),
                "payment_reference": obj["id"] if obj["object"] == "payment_intent" else obj.get("payment_intent"),
                "amount": obj.get("amount", 0),
                "currency": obj["currency"].upper() if obj.get("currency") else None,
                "order_id": obj.get("metadata", {}).get("order_id"),
                "data": obj,
            })
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WebhookRejected(f"not a payment event: {exc}") from None

    # Test hooks: the shopper's side of the payment and the provider's webhook deliveries.

    def succeed(self, reference: str) -> Payment:
        """The shopper paid: the whole amount is captured."""
        record = self._record(reference)
        if record.payment.status not in _CANCELABLE:
            raise PaymentError(f"cannot pay a payment that is {record.payment.status.value}")
        record.payment = replace(record.payment, status=PaymentStatus.SUCCEEDED, amount_received=record.payment.amount)
        return record.payment

    def fail(self, reference: str) -> Payment:
        """The card was declined; like Stripe, the shopper may try again with another card."""
        record = self._record(reference)
        if record.payment.status not in _CANCELABLE:
            raise PaymentError(f"cannot decline a payment that is {record.payment.status.value}")
        record.payment = replace(record.payment, status=PaymentStatus.FAILED)
        return record.payment

    def event_for(self, reference: str, type: str, *, at: datetime | None = None) -> tuple[bytes, str]:
        """A signed delivery (raw body, ``Stripe-Signature`` header) about one payment."""
        payment = self._record(reference).payment
        created = int((at or datetime.now(UTC)).timestamp())
        intent = {
            "id": payment.reference,
            "object": "payment_intent",
            "amount": payment.amount,
            "amount_received": payment.amount_received,
            "currency": payment.currency.lower(),
            "status": payment.status.value,
            "metadata": {"order_id": payment.order_id},
        }
        if type.startswith("payment_intent."):
            obj: dict[str, object] = intent
        else:
            kind = "dispute" if type.startswith("charge.dispute.") else "charge"
            obj = {
                "id": f"{'dp' if kind == 'dispute' else 'ch'}_mem_{uuid.uuid4().hex[:20]}",
                "object": kind,
                "amount": payment.amount,
                "currency": payment.currency.lower(),
                "payment_intent": payment.reference,
                "metadata": intent["metadata"],
            }
        body = {
            "id": f"evt_mem_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "type": type,
            "created": created,
            "data": {"object": obj},
        }
        payload = json.dumps(body, sort_keys=True).encode()
        return payload, f"t={created},v1={self._sign(created, payload)}"

    def _sign(self, timestamp: int, payload: bytes) -> str:
        return hmac.new(self._secret, b"%d.%s" % (timestamp, payload), hashlib.sha256).hexdigest()

    def _record(self, reference: str) -> _Record:
        try:
            return self._records[reference]
        except KeyError:
            raise PaymentError(f"no such payment: {reference}") from None


def _translated(kind: str, obj: dict[str, Any], common: dict[str, Any]) -> PaymentEvent:
    """Stripe-shaped event names into the provider-neutral events (as the Stripe adapter does)."""
    if kind == "payment_intent.succeeded":
        return PaymentSucceeded(**common)
    if kind == "payment_intent.payment_failed":
        return PaymentFailed(**common)
    if kind == "charge.dispute.created":
        deadline = obj.get("evidence_due_by")
        return DisputeOpened(
            **common, dispute_id=str(obj.get("id", common["id"])),
            evidence_due=datetime.fromtimestamp(deadline, UTC) if isinstance(deadline, int) else None,
        )
    if kind == "charge.dispute.closed":
        return DisputeClosed(**common, dispute_id=str(obj.get("id", common["id"])), won=obj.get("status") == "won")
    return PaymentNotice(**common)


def _parse_signature_header(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise WebhookRejected("missing signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejected("malformed signature header")
    return timestamp, signatures
