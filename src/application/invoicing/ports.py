"""The invoicing context's ports: where documents are kept and numbered, and what makes their PDFs."""

from __future__ import annotations

from typing import Protocol

from application.ports.unit_of_work import UnitOfWork
from domain.invoicing.documents import Document


class InvoiceStore(Protocol):
    """Invoices and credit notes, numbered gaplessly per series by the transaction that issues them."""

    async def issue(self, document: Document) -> None:
        """Stage a new document; it takes the next number of its series when this unit of work commits, from
        one counter row per series locked until then (a rolled-back transaction takes no number). A second
        invoice for an order, or a second credit note for one refund, is a ``Conflict`` at the commit."""
        ...

    async def get(self, document_id: str) -> Document:
        """The committed document, numbered; ``DocumentNotFound`` if there is none."""
        ...

    async def of_order(self, order_id: str) -> list[Document]:
        """The order's committed documents: its invoice first, then its credit notes in number order."""
        ...

    async def mark_rendered(self, document_id: str, pdf_key: str) -> None:
        """Remember where the document's PDF is stored (the last writer wins: every rendering is alike)."""
        ...


class InvoicingUnitOfWork(UnitOfWork, Protocol):
    invoices: InvoiceStore


class DocumentRenderer(Protocol):
    """Turns a numbered document into a PDF; the CPU work runs off the event loop."""

    async def render(self, document: Document, *, refers_to: str | None = None) -> bytes:
        """The PDF's bytes. ``refers_to``: the invoice number a credit note corrects."""
        ...
