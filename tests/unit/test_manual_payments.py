"""The manual provider (pay on invoice, cash on delivery): pending until the merchant says otherwise."""

from __future__ import annotations

import uuid

import pytest

from adapters.system.manual_payments import ManualPaymentGateway
from application.ports.payments import PaymentError, PaymentRequest, PaymentStatus, WebhookRejected


def _request(order_id: str, amount: int = 5000, key: str | None = None) -> PaymentRequest:
    return PaymentRequest(order_id=order_id, amount=amount, currency="eur", idempotency_key=key or uuid.uuid4().hex)


async def test_an_invoice_payment_is_pending_and_named_after_its_order() -> None:
    gateway = ManualPaymentGateway()
    order_id = uuid.uuid4().hex
    payment = await gateway.create(_request(order_id))
    assert gateway.name == "manual"
    assert payment.reference == f"manual-{order_id}"
    assert (payment.provider, payment.status, payment.amount, payment.currency) == (
        "manual",
        PaymentStatus.PENDING,
        5000,
        "EUR",
    )
    assert payment.client_secret is None
    assert await gateway.retrieve(payment.reference) == payment


async def test_creating_twice_for_one_order_returns_the_same_payment() -> None:
    gateway = ManualPaymentGateway()
    order_id = uuid.uuid4().hex
    first = await gateway.create(_request(order_id, key="k"))
    assert await gateway.create(_request(order_id, key="k")) == first
    assert await gateway.create(_request(order_id)) == first


async def test_refunds_are_recorded_once_per_key_and_never_exceed_the_amount() -> None:
    gateway = ManualPaymentGateway()
    payment = await gateway.create(_request(uuid.uuid4().hex, amount=5000))
    first = await gateway.refund(payment.reference, amount=2000, idempotency_key="r1")
    assert (first.status, first.amount, first.payment_reference) == ("succeeded", 2000, payment.reference)
    assert await gateway.refund(payment.reference, amount=2000, idempotency_key="r1") == first
    with pytest.raises(PaymentError):
        await gateway.refund(payment.reference, amount=3001, idempotency_key="r2")
    rest = await gateway.refund(payment.reference, amount=3000, idempotency_key="r3")
    assert rest.reference != first.reference


async def test_a_pending_invoice_can_be_canceled_once() -> None:
    gateway = ManualPaymentGateway()
    payment = await gateway.create(_request(uuid.uuid4().hex))
    assert (await gateway.cancel(payment.reference)).status is PaymentStatus.CANCELED
    with pytest.raises(PaymentError):
        await gateway.cancel(payment.reference)


async def test_an_unknown_reference_is_a_payment_error() -> None:
    with pytest.raises(PaymentError):
        await ManualPaymentGateway().retrieve("manual-nope")


def test_the_manual_provider_accepts_no_webhook() -> None:
    with pytest.raises(WebhookRejected):
        ManualPaymentGateway().verify_webhook(b'{"id": "evt_1"}', "t=1,v1=abc")
