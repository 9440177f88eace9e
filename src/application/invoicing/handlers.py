"""Invoicing's use cases: the worker makes a document's PDF (``RenderDocument``, idempotent); shoppers
and staff list an order's documents and download them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import msgspec

from application.invoicing.ports import DocumentRenderer, InvoicingUnitOfWork
from application.messaging.registry import Command, handler
from application.ports.media import MediaStorage
from domain.carts.cart import Owner, OwnerKind
from domain.invoicing.documents import Document, DocumentKind, DocumentNotFound, DocumentNotReady

Uow = Callable[[], InvoicingUnitOfWork]
PRIVATE = "private, no-store"  # never served by /media, whatever the storage


def pdf_key(document: Document) -> str:
    return f"documents/{document.kind.value}/{document.id}.pdf"


class DocumentSummary(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    number: str
    issue_date: date
    currency: str
    net: int
    tax: int
    gross: int
    ready: bool  # whether its PDF can be downloaded yet


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentPdf:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderDocument(Command[str]):
    """The worker's: make and store the PDF of an issued document (again, harmlessly, if it was made)."""

    document_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListDocuments(Command[list[DocumentSummary]]):
    """An order's invoice and credit notes; ``owner``: the shopper asking (None: staff)."""

    order_id: str
    owner: Owner | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDocumentPdf(Command[DocumentPdf]):
    """The PDF of an order's invoice (``number`` None) or of one of its credit notes."""

    order_id: str
    kind: DocumentKind
    number: str | None = None
    owner: Owner | None = None


async def _documents(uow: Uow, order_id: str, owner: Owner | None) -> list[Document]:
    async with uow() as tx:
        documents = await tx.invoices.of_order(order_id)
    if owner is not None:  # someone else's order looks like no order at all
        customer = owner.id if owner.kind is OwnerKind.CUSTOMER else None
        guest = owner.id if owner.kind is OwnerKind.GUEST else None
        documents = [d for d in documents if d.belongs_to(customer_id=customer, guest_id=guest)]
    return documents


@handler
async def render_document(command: RenderDocument, *, uow: Uow, renderer: DocumentRenderer,
                          media_storage: MediaStorage) -> str:
    async with uow() as tx:
        document = await tx.invoices.get(command.document_id)
        invoice = None
        if document.kind is DocumentKind.CREDIT_NOTE:
            invoice = next((d for d in await tx.invoices.of_order(document.order_id)
                            if d.kind is DocumentKind.INVOICE), None)
    if document.pdf_key is not None and await media_storage.get(document.pdf_key) is not None:
        return "already-rendered"
    data = await renderer.render(document, refers_to=invoice.number if invoice else None)
    key = pdf_key(document)
    await media_storage.put(key, data, content_type="application/pdf", cache_control=PRIVATE)
    async with uow() as tx:
        await tx.invoices.mark_rendered(document.id, key)
        await tx.commit()
    return "rendered"


@handler
async def list_documents(query: ListDocuments, *, uow: Uow) -> list[DocumentSummary]:
    return [
        DocumentSummary(kind=d.kind.value, number=d.number, issue_date=d.issue_date, currency=d.currency,
                        net=d.net, tax=d.tax, gross=d.gross, ready=d.pdf_key is not None)
        for d in await _documents(uow, query.order_id, query.owner)
    ]


@handler
async def get_document_pdf(query: GetDocumentPdf, *, uow: Uow, media_storage: MediaStorage) -> DocumentPdf:
    """``DocumentNotFound`` for no such document (or another shopper's); ``DocumentNotReady`` while its PDF
    is being made."""
    found = [d for d in await _documents(uow, query.order_id, query.owner)
             if d.kind is query.kind and (query.number is None or d.number == query.number)]
    if not found:
        raise DocumentNotFound(f"no {query.kind.value.replace('_', ' ')} for order {query.order_id}")
    document = found[0]
    stored = await media_storage.get(document.pdf_key) if document.pdf_key else None
    if stored is None:
        raise DocumentNotReady(f"{document.number} is being prepared; ask again in a moment")
    return DocumentPdf(filename=f"{document.number}.pdf", data=stored.data)
