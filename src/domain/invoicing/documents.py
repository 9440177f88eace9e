"""Invoices and credit notes: what the shop issued, numbered gaplessly per series (``INV-2026``).

A document is drafted from an order in the transaction that records its payment (or refund) and takes
its number when that transaction commits; it never changes afterwards, except that its PDF gets made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from domain.shared.errors import NotFound
from domain.shared.events import DomainEvent


class DocumentKind(Enum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class DocumentNotFound(NotFound):
    """No such invoice or credit note for this order (or not for this shopper)."""


class DocumentNotReady(NotFound):
    """The document is issued but its PDF is not made yet: ask again in a moment."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """A seller or a buyer as a document names them."""

    name: str
    address: tuple[str, ...] = ()
    vat_id: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentLine:
    """One line: ``net + vat == gross``, all in minor units of the document's currency."""

    description: str
    sku: str
    quantity: int
    vat_rate: int  # basis points
    net: int
    vat: int
    gross: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VatAmount:
    """What a document holds at one VAT rate."""

    rate: int  # basis points
    net: int
    vat: int
    gross: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """An invoice or a credit note. ``sequence`` is None until the transaction issuing it commits."""

    id: str
    kind: DocumentKind
    series: str  # prefix and year of the issue date: "INV-2026"
    order_id: str
    order_number: str
    issued_at: datetime
    issue_date: date  # in the shop's time zone
    time_zone: str
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    vat: tuple[VatAmount, ...]  # by rate, ascending
    net: int
    tax: int
    gross: int
    customer_id: str | None = None
    guest_id: str | None = None
    refund_reference: str | None = None  # a credit note: the refund (or refunds) it documents
    reason: str = ""
    paid_at: datetime | None = None
    sequence: int | None = None
    pdf_key: str | None = None  # where its PDF is stored, once made

    @property
    def number(self) -> str:
        """``INV-2026-000001``: the series and the sequence, six digits at least."""
        return f"{self.series}-{self.sequence:06d}" if self.sequence is not None else ""

    def belongs_to(self, *, customer_id: str | None, guest_id: str | None) -> bool:
        return (customer_id is not None and customer_id == self.customer_id) or (
            guest_id is not None and guest_id == self.guest_id
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentIssued(DomainEvent):
    """An invoice or credit note was issued (its number is on the stored document): make its PDF."""

    topic = "invoicing.document_issued.v1"
    order_id: str
    kind: str
