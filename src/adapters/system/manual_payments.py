"""The ``manual`` payment provider: pay on invoice or cash on delivery.

Nothing is captured online: a payment is created PENDING and the order records it; staff mark
it paid when the money arrives. The records here live in the process only — the order keeps
the truth (its payment reference and status), so nothing is lost when the process restarts.
"""

from __future__ import annotations

from application.ports.payments import (
    Payment,
    PaymentError,
    PaymentRequest,
    PaymentStatus,
    Refund,
    WebhookEvent,
    WebhookRejected,
)


class ManualPaymentGateway:
    name = "manual"

    def __init__(self) -> None:
        self._payments: dict[str, Payment] = {}
        self._refunds: dict[str, Refund] = {}

    async def create(self, request: PaymentRequest) -> Payment:
        reference = f"manual-{request.order_id}"
        payment = self._payments.get(reference) or Payment(
            provider=self.name, reference=reference, status=PaymentStatus.PENDING, amount=request.amount,
            currency=request.currency, order_id=request.order_id,
        )
        self._payments[reference] = payment
        return payment

    async def retrieve(self, reference: str) -> Payment:
        try:
            return self._payments[reference]
        except KeyError:
            raise PaymentError(f"no manual payment {reference}") from None

    async def cancel(self, reference: str) -> Payment:
        payment = await self.retrieve(reference)
        cancelled = Payment(provider=self.name, reference=reference, status=PaymentStatus.CANCELED,
                            amount=payment.amount, currency=payment.currency, order_id=payment.order_id)
        self._payments[reference] = cancelled
        return cancelled

    async def refund(self, reference: str, *, amount: int, idempotency_key: str) -> Refund:
        """A manual refund is a record of money sent back by hand (bank transfer, cash)."""
        if amount <= 0:
            raise PaymentError("a refund is a positive amount")
        refund = self._refunds.get(idempotency_key) or Refund(
            reference=f"manual-refund-{idempotency_key}", payment_reference=reference, amount=amount,
            status="succeeded",
        )
        self._refunds[idempotency_key] = refund
        return refund

    def verify_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent:
        raise WebhookRejected("the manual provider sends no webhooks")
