"""The shopper's invoices and credit notes: ``/store/orders/{id}/invoice`` and its credit notes, for the
shopper who placed the order (anyone else, and a document not made yet, gets a 404)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import PathParameter

from application.invoicing.handlers import DocumentSummary, GetDocumentPdf, ListDocuments
from domain.carts.cart import Owner
from domain.invoicing.documents import DocumentKind, DocumentNotFound
from entrypoints.http.dependencies import Bus
from entrypoints.http.documents import DocumentNumber, attachment
from entrypoints.http.store.identity import shopper

OrderId = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


async def _owner(request: Request[Any, Any, Any], order_id: str) -> Owner:
    who = await shopper(request)
    if who.owner is None:  # no session, no cart: no order of theirs either
        raise DocumentNotFound(f"no document for order {order_id}")
    return who.owner


class StoreOrderDocumentController(Controller):
    path = "/store/orders"
    tags = ["store: orders"]

    @get("/{order_id:str}/documents", operation_id="store_list_order_documents",
         summary="My order's invoice and credit notes (ready: the PDF can be downloaded)")
    async def documents(self, bus: Bus, request: Request[Any, Any, Any], order_id: OrderId) -> list[DocumentSummary]:
        return await bus.handle(ListDocuments(order_id=order_id, owner=await _owner(request, order_id)))

    @get("/{order_id:str}/invoice", operation_id="store_get_order_invoice", media_type="application/pdf",
         summary="My order's invoice as PDF (404 until it is made)")
    async def invoice(self, bus: Bus, request: Request[Any, Any, Any], order_id: OrderId) -> Response[bytes]:
        return attachment(await bus.handle(GetDocumentPdf(
            order_id=order_id, kind=DocumentKind.INVOICE, owner=await _owner(request, order_id))))

    @get("/{order_id:str}/credit-notes/{number:str}", operation_id="store_get_order_credit_note",
         media_type="application/pdf", summary="One of my order's credit notes as PDF (404 until it is made)")
    async def credit_note(self, bus: Bus, request: Request[Any, Any, Any], order_id: OrderId,
                          number: DocumentNumber) -> Response[bytes]:
        return attachment(await bus.handle(GetDocumentPdf(
            order_id=order_id, kind=DocumentKind.CREDIT_NOTE, number=number, owner=await _owner(request, order_id))))
