"""The PaymentGateway contract (``PaymentGatewayContract``): the in-memory fake and Stripe (on localstripe)
take, refuse and refund alike.

The Stripe half runs on localstripe (``tests/support/stripe_double.py``: the ``localstripe`` fixture of
``tests/contract/conftest.py``) on a free 127.0.0.1 port with its state in a temporary folder, and receives
localstripe's signed webhooks on a small HTTP server of its own. If localstripe cannot start, those tests
are skipped with the reason; they never pass empty.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import stripe

from adapters.memory.payments import MemoryPaymentGateway
from adapters.stripe.payments import StripePaymentGateway
from application.ports.payments import (
    Payment,
    PaymentError,
    PaymentGateway,
    PaymentRequest,
    PaymentStatus,
    WebhookRejected,
)
from tests.support.stripe_double import API_KEY, LocalStripe

# stripe's HTTPXClient posts form bodies as ``data=bytes``, which httpx deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")


# --- one driver per adapter: the shopper's side and the provider's webhook deliveries ---------------


class MemoryDriver:
    def __init__(self) -> None:
        self.gateway = MemoryPaymentGateway(f"whsec_{uuid.uuid4().hex}")

    async def pay(self, payment: Payment) -> None:
        self.gateway.succeed(payment.reference)

    async def decline(self, payment: Payment) -> None:
        self.gateway.fail(payment.reference)

    async def delivery(self, payment: Payment, type: str) -> tuple[bytes, str]:
        return self.gateway.event_for(payment.reference, type)

    async def aclose(self) -> None:
        pass


class StripeDriver:
    """Plays the shopper's browser with the raw SDK: attach a test card and confirm."""

    def __init__(self, local: LocalStripe) -> None:
        self.gateway = StripePaymentGateway(API_KEY, local.webhook_secret, api_base=local.api_base)
        self._inbox = local.inbox
        self._http = stripe.HTTPXClient()
        self._shopper = stripe.StripeClient(API_KEY, base_addresses={"api": local.api_base}, http_client=self._http)

    async def _confirm_with(self, payment: Payment, payment_method: str) -> None:
        intents = self._shopper.v1.payment_intents
        await intents.update_async(payment.reference, {"payment_method": payment_method})
        await intents.confirm_async(payment.reference)

    async def pay(self, payment: Payment) -> None:
        await self._confirm_with(payment, "pm_card_visa")

    async def decline(self, payment: Payment) -> None:
        # 4000000000000341: attaches fine, every charge is declined (pm_card_visa_chargeDeclined is
        # declined on attach only, in Stripe as in localstripe, and we never attach to a customer).
        with pytest.raises(stripe.CardError):
            await self._confirm_with(payment, "pm_card_chargeCustomerFail")

    async def delivery(self, payment: Payment, type: str) -> tuple[bytes, str]:
        def about_payment(event: dict) -> bool:
            return event["type"] == type and event["data"]["object"].get("id") == payment.reference

        return await asyncio.to_thread(self._inbox.wait_for, about_payment)

    async def aclose(self) -> None:
        await self._http.close_async()
        await self.gateway.aclose()


def _request(amount: int = 1000, *, key: str | None = None) -> PaymentRequest:
    return PaymentRequest(
        order_id=f"ord-{uuid.uuid4().hex[:12]}",
        amount=amount,
        currency="EUR",
        idempotency_key=key or uuid.uuid4().hex,
    )


async def _paid(driver: MemoryDriver | StripeDriver, amount: int = 1000) -> Payment:
    payment = await driver.gateway.create(_request(amount))
    await driver.pay(payment)
    return payment


# --- the contract --------------------------------------------------------------------------------


class PaymentGatewayContract:
    """What every PaymentGateway does alike. A subclass provides ``driver``: its gateway (``driver.gateway``)
    with the shopper's and the provider's sides played for it."""

    @pytest.fixture
    def driver(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_a_new_payment_waits_for_the_shopper(self, driver) -> None:
        gateway: PaymentGateway = driver.gateway
        request = _request(1250)
        payment = await gateway.create(request)
        assert payment.status is PaymentStatus.PENDING
        assert (payment.amount, payment.currency, payment.amount_received) == (1250, "EUR", 0)
        assert payment.order_id == request.order_id
        assert payment.client_secret
        assert await gateway.retrieve(payment.reference) == payment

    async def test_the_same_idempotency_key_returns_the_same_payment(self, driver) -> None:
        request = _request()
        first = await driver.gateway.create(request)
        again = await driver.gateway.create(request)
        other = await driver.gateway.create(_request())
        assert again == first
        assert other.reference != first.reference

    async def test_an_idempotency_key_reused_for_another_payment_is_refused(self, driver) -> None:
        key = uuid.uuid4().hex
        await driver.gateway.create(_request(1000, key=key))
        with pytest.raises(PaymentError):
            await driver.gateway.create(_request(2000, key=key))

    async def test_a_confirmed_payment_has_received_the_whole_amount(self, driver) -> None:
        payment = await _paid(driver, 4200)
        seen = await driver.gateway.retrieve(payment.reference)
        assert seen.status is PaymentStatus.SUCCEEDED
        assert seen.amount_received == 4200

    async def test_a_declined_card_fails_the_payment(self, driver) -> None:
        payment = await driver.gateway.create(_request())
        await driver.decline(payment)
        seen = await driver.gateway.retrieve(payment.reference)
        assert seen.status is PaymentStatus.FAILED
        assert seen.amount_received == 0

    async def test_an_unknown_reference_is_a_payment_error(self, driver) -> None:
        with pytest.raises(PaymentError):
            await driver.gateway.retrieve(f"pi_{uuid.uuid4().hex[:14]}")

    async def test_a_pending_payment_can_be_canceled_but_a_paid_one_cannot(self, driver) -> None:
        pending = await driver.gateway.create(_request())
        canceled = await driver.gateway.cancel(pending.reference)
        assert canceled.status is PaymentStatus.CANCELED
        assert (await driver.gateway.retrieve(pending.reference)).status is PaymentStatus.CANCELED
        paid = await _paid(driver)
        with pytest.raises(PaymentError):
            await driver.gateway.cancel(paid.reference)

    async def test_partial_then_full_refund_and_not_a_cent_more(self, driver) -> None:
        payment = await _paid(driver, 1000)
        partial = await driver.gateway.refund(payment.reference, amount=300, idempotency_key=uuid.uuid4().hex)
        assert (partial.amount, partial.status, partial.payment_reference) == (300, "succeeded", payment.reference)
        rest = await driver.gateway.refund(payment.reference, amount=700, idempotency_key=uuid.uuid4().hex)
        assert rest.amount == 700
        assert rest.reference != partial.reference
        with pytest.raises(PaymentError):
            await driver.gateway.refund(payment.reference, amount=1, idempotency_key=uuid.uuid4().hex)

    async def test_a_refund_above_the_amount_received_is_refused(self, driver) -> None:
        payment = await _paid(driver, 1000)
        with pytest.raises(PaymentError):
            await driver.gateway.refund(payment.reference, amount=1001, idempotency_key=uuid.uuid4().hex)
        refund = await driver.gateway.refund(payment.reference, amount=1000, idempotency_key=uuid.uuid4().hex)
        assert refund.amount == 1000

    async def test_the_same_refund_key_never_refunds_twice(self, driver) -> None:
        payment = await _paid(driver, 1000)
        key = uuid.uuid4().hex
        first = await driver.gateway.refund(payment.reference, amount=600, idempotency_key=key)
        again = await driver.gateway.refund(payment.reference, amount=600, idempotency_key=key)
        assert again == first
        # Only 600 went out, so 400 is still refundable and 401 is not.
        with pytest.raises(PaymentError):
            await driver.gateway.refund(payment.reference, amount=401, idempotency_key=uuid.uuid4().hex)
        await driver.gateway.refund(payment.reference, amount=400, idempotency_key=uuid.uuid4().hex)
        with pytest.raises(PaymentError):
            await driver.gateway.refund(payment.reference, amount=100, idempotency_key=key)

    async def test_an_unpaid_payment_cannot_be_refunded(self, driver) -> None:
        payment = await driver.gateway.create(_request())
        with pytest.raises(PaymentError):
            await driver.gateway.refund(payment.reference, amount=100, idempotency_key=uuid.uuid4().hex)

    async def test_a_signed_webhook_verifies_into_the_event(self, driver) -> None:
        payment = await _paid(driver, 2500)
        payload, signature = await driver.delivery(payment, "payment_intent.succeeded")
        event = driver.gateway.verify_webhook(payload, signature)
        assert event.type == "payment_intent.succeeded"
        assert event.payment_reference == payment.reference
        assert (event.amount, event.currency, event.order_id) == (2500, "EUR", payment.order_id)
        assert event.id
        assert event.data["id"] == payment.reference

    async def test_a_declined_payment_is_reported_by_webhook(self, driver) -> None:
        payment = await driver.gateway.create(_request())
        await driver.decline(payment)
        payload, signature = await driver.delivery(payment, "payment_intent.payment_failed")
        event = driver.gateway.verify_webhook(payload, signature)
        assert (event.type, event.payment_reference) == ("payment_intent.payment_failed", payment.reference)

    async def test_a_tampered_or_unsigned_webhook_is_rejected(self, driver) -> None:
        payment = await _paid(driver, 2500)
        payload, signature = await driver.delivery(payment, "payment_intent.succeeded")
        tampered = payload.replace(b"2500", b"25000", 1)
        assert tampered != payload
        with pytest.raises(WebhookRejected):
            driver.gateway.verify_webhook(tampered, signature)
        with pytest.raises(WebhookRejected):
            driver.gateway.verify_webhook(payload, None)
        with pytest.raises(WebhookRejected):
            driver.gateway.verify_webhook(payload, "t=1,v1=" + "0" * 64)


class TestMemoryPaymentGateway(PaymentGatewayContract):
    @pytest.fixture
    def driver(self) -> MemoryDriver:
        return MemoryDriver()


class TestStripePaymentGateway(PaymentGatewayContract):
    @pytest.fixture
    async def driver(self, localstripe) -> AsyncIterator[StripeDriver]:
        d = StripeDriver(localstripe)
        try:
            yield d
        finally:
            await d.aclose()
