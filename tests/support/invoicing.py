"""An order at two VAT rates to invoice, and a look inside the PDFs the renderer makes (its page streams
are uncompressed, so their text is there as PDF strings)."""

from __future__ import annotations

from datetime import datetime

from domain.orders.order import Order, OrderLine, TaxLine, Totals
from domain.shared.address import Address
from domain.shared.shop import Shop

BERLIN = Shop(name="Emporium GmbH", address=("Friedrichstraße 10", "10117 Berlin", "DE"), vat_id="DE123456789",
              time_zone="Europe/Berlin")
BUYER = Address(name="Grace Hopper", line1="Kungsgatan 2", city="Stockholm", postal_code="111 43", country="SE")


def two_rate_order(order_id: str, *, now: datetime, provider: str = "manual", customer_id: str | None = None,
                   guest_id: str | None = None) -> Order:
    """Boots at 19 % (2 × 59.50 €), a book at 7 % (21.40 €) and shipping at 19 % (5.95 €), VAT inside:
    146.35 € in all, 124.95 € of it at 19 % (19.95 € VAT) and 21.40 € at 7 % (1.40 € VAT)."""
    lines = (
        OrderLine(id="l-boots", sku="BOOT-42", product_id="p-boots", name="Walking boots", quantity=2, unit_price=5950,
                  subtotal=11900, discount=0, tax=1900, total=11900),
        OrderLine(id="l-book", sku="BOOK-1", product_id="p-book", name="Field guide", quantity=1, unit_price=2140,
                  subtotal=2140, discount=0, tax=140, total=2140),
    )
    tax_lines = (
        TaxLine(name="DE VAT", basis_points=1900, amount=1900, applies_to="l-boots"),
        TaxLine(name="DE VAT reduced", basis_points=700, amount=140, applies_to="l-book"),
        TaxLine(name="DE VAT", basis_points=1900, amount=95, applies_to="shipping"),
    )
    return Order.place(
        actor="test", now=now, id=order_id, number=f"EMP-{order_id}", checkout_id=f"co-{order_id}",
        customer_id=customer_id, guest_id=guest_id, email="grace@example.com", channel="web", lines=lines,
        tax_lines=tax_lines,
        totals=Totals(currency="EUR", subtotal=14040, discount=0, shipping=595, tax=2135, total=14635,
                      prices_include_tax=True),
        shipping_address=BUYER, billing_address=BUYER, shipping_method="eu-standard", payment_provider=provider,
    )


def pdf_has(data: bytes, text: str) -> bool:
    """Whether ``text`` is written on one of the PDF's pages: the standard fonts' strings are Windows-1252,
    backslashes and parentheses escaped, every byte past ASCII as an octal escape (``€`` is ``\\200``)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"".join(bytes([b]) if b < 0x80 else b"\\%03o" % b for b in escaped.encode("cp1252")) in data
