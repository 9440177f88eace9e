"""Drafting an invoice or a credit note from an order: its lines, its VAT per rate and its totals.

Amounts are the order's, as charged: a line's ``total`` is in the destination's convention (VAT inside
in Europe, on top where the destination adds it), its ``tax`` the VAT of that line. A credit note for
part of an order spreads the refunded amount over the order's rates in proportion to what each rate
holds, and takes the VAT out of each share (rounded once per rate)."""

from __future__ import annotations

from datetime import datetime

from domain.invoicing.documents import Document, DocumentKind, DocumentLine, Party, VatAmount
from domain.orders.order import Order
from domain.shared.address import Address
from domain.shared.errors import InvalidInput
from domain.shared.money import Money, round_ratio
from domain.shared.shop import Shop

WHOLE = 10_000  # basis points in one


def seller_of(shop: Shop) -> Party:
    return Party(name=shop.name, address=shop.address, vat_id=shop.vat_id)


def buyer_of(order: Order) -> Party:
    a: Address = order.billing_address
    lines = [a.company, a.line1, a.line2, f"{a.postal_code} {a.city}".strip(), a.region, a.country]
    return Party(name=a.name, address=tuple(line for line in lines if line), email=order.email)


def invoice_lines(order: Order) -> tuple[DocumentLine, ...]:
    """The order's lines and its shipping, each with its VAT rate, net, VAT and gross amounts."""
    rates = {t.applies_to: t.basis_points for t in order.tax_lines}
    taxes: dict[str, int] = {}
    for t in order.tax_lines:
        taxes[t.applies_to] = taxes.get(t.applies_to, 0) + t.amount
    inside = order.totals.prices_include_tax

    def line(description: str, sku: str, quantity: int, key: str, amount: int) -> DocumentLine:
        vat = taxes.get(key, 0)
        gross = amount if inside else amount + vat
        return DocumentLine(description=description, sku=sku, quantity=quantity, vat_rate=rates.get(key, 0),
                            net=gross - vat, vat=vat, gross=gross)

    lines = [line(o.name, o.sku, o.quantity, o.id, o.total) for o in order.lines]
    if order.totals.shipping or "shipping" in taxes:
        lines.append(line(f"Shipping ({order.shipping_method})", "", 1, "shipping", order.totals.shipping))
    return tuple(lines)


def vat_breakdown(lines: tuple[DocumentLine, ...]) -> tuple[VatAmount, ...]:
    by_rate: dict[int, list[int]] = {}
    for line in lines:
        sums = by_rate.setdefault(line.vat_rate, [0, 0, 0])
        sums[0] += line.net
        sums[1] += line.vat
        sums[2] += line.gross
    return tuple(VatAmount(rate=rate, net=n, vat=v, gross=g) for rate, (n, v, g) in sorted(by_rate.items()))


def _document(order: Order, *, id: str, kind: DocumentKind, shop: Shop, now: datetime,
              lines: tuple[DocumentLine, ...], paid_at: datetime | None = None, refund_reference: str | None = None,
              reason: str = "") -> Document:
    issue_date = shop.day_of(now)
    prefix = shop.invoice_prefix if kind is DocumentKind.INVOICE else shop.credit_note_prefix
    vat = vat_breakdown(lines)
    return Document(
        id=id, kind=kind, series=f"{prefix}-{issue_date.year}", order_id=order.id, order_number=order.number,
        issued_at=now, issue_date=issue_date, time_zone=shop.time_zone, currency=order.totals.currency,
        seller=seller_of(shop), buyer=buyer_of(order), lines=lines, vat=vat,
        net=sum(v.net for v in vat), tax=sum(v.vat for v in vat), gross=sum(v.gross for v in vat),
        customer_id=order.customer_id, guest_id=order.guest_id, paid_at=paid_at, refund_reference=refund_reference,
        reason=reason,
    )


def invoice_for(order: Order, *, id: str, shop: Shop, now: datetime) -> Document:
    """The invoice of a paid order: every line as charged, shipping included."""
    return _document(order, id=id, kind=DocumentKind.INVOICE, shop=shop, now=now, lines=invoice_lines(order),
                     paid_at=now)


def credit_note_for(order: Order, *, id: str, amount: int, reference: str, reason: str, shop: Shop,
                    now: datetime) -> Document:
    """A credit note for ``amount`` (gross, minor units) given back on ``order``, split over its VAT rates."""
    if amount <= 0:
        raise InvalidInput("a credit note is for a positive amount")
    invoiced = vat_breakdown(invoice_lines(order))
    total = sum(v.gross for v in invoiced)
    if amount > total:
        raise InvalidInput(f"a credit note of {amount} exceeds the {total} invoiced")
    if amount == total:
        shares = list(invoiced)
    else:
        parts = Money(amount, order.totals.currency).allocate([v.gross for v in invoiced])
        shares = []
        for part, rate in zip(parts, invoiced, strict=True):
            vat = round_ratio(part.amount * rate.rate, WHOLE + rate.rate)
            shares.append(VatAmount(rate=rate.rate, net=part.amount - vat, vat=vat, gross=part.amount))
    what = f"Refund on order {order.number}" + (f": {reason}" if reason else "")
    lines = tuple(
        DocumentLine(description=what, sku="", quantity=1, vat_rate=s.rate, net=s.net, vat=s.vat, gross=s.gross)
        for s in shares if s.gross
    )
    return _document(order, id=id, kind=DocumentKind.CREDIT_NOTE, shop=shop, now=now, lines=lines,
                     refund_reference=reference, reason=reason)
