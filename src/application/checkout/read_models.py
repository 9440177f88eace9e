from __future__ import annotations

from typing import Any

import msgspec


class ShippingOptionView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    amount: int
    currency: str
    days: str


class CheckoutView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    state: str
    next_step: str
    currency: str
    channel: str
    email: str | None
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    shipping_method: str | None
    payment_provider: str | None
    totals: dict[str, Any] | None  # frozen when payment starts
    lines: list[dict[str, Any]]
    tax_lines: list[dict[str, Any]]
    order_id: str | None
    version: int


class PlacedOrderView(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    number: str
    status: str
    total: int
    currency: str
    payment_provider: str
    payment_reference: str | None
    client_secret: str | None = None  # Stripe Elements confirms the payment with it
    pay_by: str | None = None  # pay later: the deadline, after which the order is cancelled
