"""Pay on invoice / cash on delivery: nothing is captured online, so there is no provider to ask."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from application.ports.payments import (
    Payment,
    PaymentError,
    PaymentEvent,
    PaymentRequest,
    PaymentStatus,
    Refund,
    WebhookRejected,
)

__all__ = ["ManualPaymentGateway"]


@dataclass(slots=True)
class _Record:
    payment: Payment
    refunds: dict[str, Refund] = field(default_factory=dict)  # by idempotency key

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds.values())


class ManualPaymentGateway:
    """The ``manual`` provider: payments stay PENDING until the merchant marks the order paid.

    Records live in an in-process dict on purpose: the order aggregate keeps the truth about a manual
    payment (paid, refunded), so this gateway only has to answer consistently within one process. The
    reference is derived from the order id, so a lost record is recreated identically by ``create``.
    """

    name = "manual"

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}

    async def create(self, request: PaymentRequest) -> Payment:
        reference = f"manual-{request.order_id}"
        if reference in self._records:
            return self._records[reference].payment
        if request.amount <= 0:
            raise PaymentError("amount must be positive")
        payment = Payment(
            provider=self.name,
            reference=reference,
            status=PaymentStatus.PENDING,
            amount=request.amount,
            currency=request.currency.upper(),
            order_id=request.order_id,
        )
        self._records[reference] = _Record(payment)
        return payment

    async def retrieve(self, reference: str) -> Payment:
        return self._record(reference).payment

    async def cancel(self, reference: str) -> Payment:
        record = self._record(reference)
        if record.payment.status is not PaymentStatus.PENDING:
            raise PaymentError(f"cannot cancel a payment that is {record.payment.status.value}")
        record.payment = replace(record.payment, status=PaymentStatus.CANCELED)
        return record.payment

    async def refund(self, reference: str, *, amount: int, idempotency_key: str) -> Refund:
        """Record money handed back outside the system; never more than the order's amount.

        A payment this process has not seen (created before a restart, or by another API process)
        is refunded on the order's word: the order caps refunds at what it captured, and the refund
        reference comes from the idempotency key, so every process answers a retry the same way."""
        if reference not in self._records:
            if amount <= 0:
                raise PaymentError("refund amount must be positive")
            return Refund(reference=f"{reference}-refund-{idempotency_key}", payment_reference=reference,
                          amount=amount, status="succeeded")
        record = self._record(reference)
        if idempotency_key in record.refunds:
            return record.refunds[idempotency_key]
        if amount <= 0:
            raise PaymentError("refund amount must be positive")
        if record.refunded + amount > record.payment.amount:
            left = record.payment.amount - record.refunded
            raise PaymentError(f"refund of {amount} exceeds the {left} left to refund")
        refund = Refund(
            reference=f"{reference}-refund-{idempotency_key}",
            payment_reference=reference,
            amount=amount,
            status="succeeded",
        )
        record.refunds[idempotency_key] = refund
        return refund

    def verify_webhook(self, payload: bytes, signature: str | None) -> PaymentEvent:
        raise WebhookRejected("the manual provider sends no webhooks")

    def _record(self, reference: str) -> _Record:
        try:
            return self._records[reference]
        except KeyError:
            raise PaymentError(f"no such payment: {reference}") from None
