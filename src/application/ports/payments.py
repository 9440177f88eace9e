"""The ``PaymentGateway`` port: take money for an order, refund it, and read the provider's word.

Adapters: ``manual`` (pay on invoice / cash on delivery: nothing is captured online) and Stripe
(PaymentIntents + signed webhooks). Every call that creates something at the provider carries an
idempotency key, so a retried request never creates a second intent or a second refund.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

from domain.shared.errors import DomainError


class PaymentStatus(Enum):
    PENDING = "pending"  # waiting for the shopper (card details, 3-D Secure) or for an invoice to be paid
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class PaymentError(DomainError):
    """The provider refused the request (a declined card, an invalid amount)."""


class WebhookRejected(DomainError):
    """A webhook whose signature does not verify, or that is not a JSON event."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRequest:
    order_id: str
    amount: int  # minor units
    currency: str
    idempotency_key: str
    email: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    provider: str
    reference: str  # the provider's id (a PaymentIntent id for Stripe)
    status: PaymentStatus
    amount: int
    currency: str
    amount_received: int = 0
    client_secret: str | None = None  # for hosted fields (Stripe Elements); never logged
    order_id: str | None = None  # from the provider's metadata


@dataclass(frozen=True, slots=True, kw_only=True)
class Refund:
    reference: str
    payment_reference: str
    amount: int
    status: str  # "succeeded", "pending", "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderEvent:
    """What every verified provider event carries. Adapters translate their provider's events into one
    of the ``PaymentEvent`` kinds below; the application never reads a provider's own vocabulary."""

    id: str  # the provider's event id: deduplication key
    type: str  # the provider's own name for the event: recorded (timeline notes, audits), never interpreted
    created: datetime
    payment_reference: str | None
    amount: int = 0
    currency: str | None = None
    order_id: str | None = None
    data: dict[str, object] = field(default_factory=dict)  # the raw object, for audits


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentSucceeded(ProviderEvent):
    """The payment was captured: ``amount`` was received."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentFailed(ProviderEvent):
    """An attempt failed (a declined card); the shopper may still try again."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeOpened(ProviderEvent):
    """The payer disputes the payment; evidence is due by ``evidence_due`` (when the provider says)."""

    dispute_id: str
    evidence_due: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeClosed(ProviderEvent):
    """A dispute was decided: ``won`` keeps the money, otherwise it went back to the payer."""

    dispute_id: str
    won: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentNotice(ProviderEvent):
    """Any other event the provider sends about a payment (created, processing, refunded …):
    recorded once, nothing applied."""


PaymentEvent = PaymentSucceeded | PaymentFailed | DisputeOpened | DisputeClosed | PaymentNotice


class PaymentGateway(Protocol):
    name: str

    async def create(self, request: PaymentRequest) -> Payment:
        """Create (or, with the same idempotency key, return again) the payment for an order."""
        ...

    async def retrieve(self, reference: str) -> Payment:
        """The provider's current view of a payment (the reconciler's source of truth)."""
        ...

    async def cancel(self, reference: str) -> Payment:
        """Void a payment that has not been captured (the stock is gone, the checkout expired)."""
        ...

    async def refund(self, reference: str, *, amount: int, idempotency_key: str) -> Refund:
        """Refund part or all of a captured payment; the same key never refunds twice."""
        ...

    def verify_webhook(self, payload: bytes, signature: str | None) -> PaymentEvent:
        """Check the signature and translate the event; ``WebhookRejected`` otherwise."""
        ...
