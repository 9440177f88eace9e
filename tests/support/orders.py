"""An order to talk about, for tests that render, notify or sign without placing one through checkout."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.orders.order import Order, OrderLine, Totals
from domain.shared.address import Address


def new_order(unique: str, *, email: str = "ada@example.com") -> Order:
    address = Address(name="Ada <Lovelace>", line1="Unter den Linden 1", city="Berlin", postal_code="10117",
                      country="DE")
    line = OrderLine(id=f"l-{unique}", sku=f"BOOT-{unique}", product_id=f"p-{unique}", name="Boot & Lace",
                     quantity=2, unit_price=2500, subtotal=5000, discount=0, tax=798, total=5000)
    return Order.place(
        actor="test", now=datetime.now(UTC), id=f"o-{unique}", number=f"EMP-{unique}", checkout_id=f"c-{unique}",
        customer_id=None, email=email, channel="web", lines=(line,), tax_lines=(),
        totals=Totals(currency="EUR", subtotal=5000, discount=0, shipping=495, tax=798, total=5495,
                      prices_include_tax=True),
        shipping_address=address, billing_address=address, shipping_method="standard",
    )
