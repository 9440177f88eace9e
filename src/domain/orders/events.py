"""The events an order records (topics are versioned: a breaking change gets a new topic)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.shared.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent(DomainEvent):
    customer_id: str | None
    currency: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPlaced(OrderEvent):
    topic = "orders.order_placed.v1"
    email: str
    checkout_id: str
    total: int
    subtotal: int
    discount: int
    shipping: int
    tax: int
    lines: tuple[tuple[str, int, int], ...]  # (sku, quantity, line total)
    promotions: tuple[tuple[str, int, int], ...]  # (promotion id, version, amount)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPaid(OrderEvent):
    topic = "orders.order_paid.v1"
    amount: int
    payment_reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatusChanged(OrderEvent):
    topic = "orders.order_status_changed.v1"
    from_status: str
    action: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRefunded(OrderEvent):
    topic = "orders.order_refunded.v1"
    amount: int
    refund_reference: str
