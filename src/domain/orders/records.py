"""What an order holds: its lines, tax lines, totals, payments, refunds, fulfilments and timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class OrderStatus(Enum):
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


AFTER_PAYMENT = frozenset({
    OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PARTIALLY_REFUNDED,
})


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedPromotion:
    promotion_id: str
    version: int
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    id: str
    sku: str
    product_id: str
    name: str
    quantity: int
    unit_price: int
    subtotal: int
    discount: int
    tax: int
    total: int
    promotions: tuple[AppliedPromotion, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxLine:
    name: str
    basis_points: int
    amount: int
    applies_to: str  # a line id or "shipping"


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    currency: str
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    prices_include_tax: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEntry:
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRecord:
    provider: str
    reference: str
    amount: int
    status: str  # pending | succeeded | failed


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundRecord:
    reference: str
    amount: int
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Fulfilment:
    id: str
    lines: tuple[tuple[str, int], ...]  # (order line id, quantity)
    carrier: str = ""
    tracking_number: str = ""
    shipped_at: datetime | None = None
