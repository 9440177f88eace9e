"""An order's invoice and credit notes for staff: the roles that read orders (support, fulfilment, owner)."""

from __future__ import annotations

from litestar import Controller, Response, get

from application.invoicing.handlers import DocumentSummary, GetDocumentPdf, ListDocuments
from domain.invoicing.documents import DocumentKind
from entrypoints.http.admin.orders import SUPPORT, OrderId
from entrypoints.http.auth import staff_guard
from entrypoints.http.dependencies import Bus
from entrypoints.http.documents import DocumentNumber, attachment


class AdminOrderDocumentController(Controller):
    path = "/admin/orders"
    tags = ["admin: orders"]
    guards = [staff_guard]

    @get("/{order_id:str}/documents", operation_id="admin_list_order_documents", opt=SUPPORT,
         summary="The order's invoice and credit notes")
    async def documents(self, bus: Bus, order_id: OrderId) -> list[DocumentSummary]:
        return await bus.handle(ListDocuments(order_id=order_id))

    @get("/{order_id:str}/invoice", operation_id="admin_get_order_invoice", opt=SUPPORT, media_type="application/pdf",
         summary="The order's invoice as PDF (404 until it is made)")
    async def invoice(self, bus: Bus, order_id: OrderId) -> Response[bytes]:
        return attachment(await bus.handle(GetDocumentPdf(order_id=order_id, kind=DocumentKind.INVOICE)))

    @get("/{order_id:str}/credit-notes/{number:str}", operation_id="admin_get_order_credit_note", opt=SUPPORT,
         media_type="application/pdf", summary="One of the order's credit notes as PDF (404 until it is made)")
    async def credit_note(self, bus: Bus, order_id: OrderId, number: DocumentNumber) -> Response[bytes]:
        return attachment(await bus.handle(GetDocumentPdf(order_id=order_id, kind=DocumentKind.CREDIT_NOTE,
                                                          number=number)))
