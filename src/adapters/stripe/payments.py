"""``PaymentGateway`` on Stripe PaymentIntents, through the official SDK's native async calls."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from stripe.params import PaymentIntentCreateParams

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

__all__ = ["StripeGateway", "StripePaymentGateway"]

# The SDK logs whole API responses at debug level — client secrets included. Only its warnings
# and errors may reach our logs, whatever level the application runs at.
logging.getLogger("stripe").setLevel(logging.WARNING)

_STATUSES = {
    "requires_payment_method": PaymentStatus.PENDING,
    "requires_confirmation": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.PENDING,
    "processing": PaymentStatus.PROCESSING,
    "requires_capture": PaymentStatus.PROCESSING,  # authorised, not captured: we capture automatically
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELED,
}
_REFUND_STATUSES = {"succeeded": "succeeded", "pending": "pending", "requires_action": "pending"}
_EVENT_PREFIXES = ("payment_intent.", "charge.refunded", "charge.dispute.")
# The provider said no (declined card, bad amount, unknown id). Network errors, 5xx and rate limits are
# not refusals: they propagate so the caller retries with the same idempotency key.
# An IdempotencyError is a key reused with different parameters: refused, never replayed.
_REFUSALS = (stripe.CardError, stripe.InvalidRequestError, stripe.IdempotencyError)


class StripePaymentGateway:
    """Stripe through one ``StripeClient`` on httpx; call ``aclose`` when the lifespan ends."""

    name = "stripe"

    def __init__(self, api_key: str, webhook_secret: str, api_base: str | None = None) -> None:
        self._webhook_secret = webhook_secret
        self._http = stripe.HTTPXClient()
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=2,
        )

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create(self, request: PaymentRequest) -> Payment:
        params: PaymentIntentCreateParams = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "metadata": {"order_id": request.order_id},
        }
        # No payment-method parameter: since API 2023-08-16 Stripe then enables automatic payment
        # methods (managed in the Dashboard). SDK 16's typed create params offer only
        # `allowed_payment_method_types`, which localstripe rejects, as it rejects
        # `automatic_payment_methods`; sending neither keeps one adapter working on both.
        # Likewise description and receipt_email are sent only when set: localstripe refuses them.
        if request.description:
            params["description"] = request.description
        if request.email:
            params["receipt_email"] = request.email
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params,
                {"idempotency_key": request.idempotency_key},
            )
        except _REFUSALS as exc:
            raise PaymentError(_message(exc)) from None
        return _payment(intent.to_dict())

    async def retrieve(self, reference: str) -> Payment:
        try:
            intent = await self._client.v1.payment_intents.retrieve_async(reference)
        except _REFUSALS as exc:
            raise PaymentError(_message(exc)) from None
        return _payment(intent.to_dict())

    async def cancel(self, reference: str) -> Payment:
        try:
            intent = await self._client.v1.payment_intents.cancel_async(reference)
        except _REFUSALS as exc:
            raise PaymentError(_message(exc)) from None
        return _payment(intent.to_dict())

    async def refund(self, reference: str, *, amount: int, idempotency_key: str) -> Refund:
        try:
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": reference, "amount": amount},
                {"idempotency_key": idempotency_key},
            )
        except _REFUSALS as exc:
            raise PaymentError(_message(exc)) from None
        return Refund(
            reference=refund.id,
            payment_reference=reference,
            amount=refund.amount,
            status=_REFUND_STATUSES.get(refund.status or "", "failed"),
        )

    def verify_webhook(self, payload: bytes, signature: str | None) -> PaymentEvent:
        try:
            event = self._client.construct_event(payload, signature, self._webhook_secret).to_dict()
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"webhook signature does not verify: {exc.user_message or exc}") from None
        except ValueError as exc:  # the body is not JSON
            raise WebhookRejected(f"webhook body is not an event: {exc}") from None
        return _webhook_event(event)


StripeGateway = StripePaymentGateway  # the name the composition root was first written against


def _payment(intent: dict[str, Any]) -> Payment:
    status = _STATUSES.get(intent["status"], PaymentStatus.PENDING)
    if status is PaymentStatus.PENDING and intent.get("last_payment_error"):
        status = PaymentStatus.FAILED  # declined: Stripe waits for another payment method
    received = intent.get("amount_received")
    if received is None:  # localstripe omits it; Stripe always sends it
        received = intent["amount"] if status is PaymentStatus.SUCCEEDED else 0
    return Payment(
        provider="stripe",
        reference=intent["id"],
        status=status,
        amount=intent["amount"],
        currency=intent["currency"].upper(),
        amount_received=received,
        client_secret=intent.get("client_secret"),
        order_id=(intent.get("metadata") or {}).get("order_id"),
    )


def _webhook_event(event: dict[str, Any]) -> PaymentEvent:
    try:
        obj: dict[str, Any] = event["data"]["object"]
        kind = event["type"]
        if obj.get("object") == "payment_intent" or kind.startswith("payment_intent."):
            reference = obj.get("id")
        elif kind.startswith(_EVENT_PREFIXES):
            reference = obj.get("payment_intent")
        else:
            reference = None
        currency = obj.get("currency")
        common: dict[str, Any] = {
            "id": event["id"],
            "type": kind,
            "created": datetime.fromtimestamp(event["created"], UTC),
            "payment_reference": reference,
            "amount": obj.get("amount") or 0,
            "currency": currency.upper() if isinstance(currency, str) else None,
            "order_id": (obj.get("metadata") or {}).get("order_id"),
            "data": obj,
        }
        return _translated(kind, obj, common)
    except (KeyError, TypeError, AttributeError) as exc:
        raise WebhookRejected(f"webhook body is not an event: {exc!r}") from None


def _translated(kind: str, obj: dict[str, Any], common: dict[str, Any]) -> PaymentEvent:
    """Stripe's event names, told apart here and nowhere else."""
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


def _message(exc: stripe.StripeError) -> str:
    return exc.user_message or str(exc) or type(exc).__name__
