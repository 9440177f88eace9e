"""Invoices and credit notes in PostgreSQL. A document is staged with the unit of work's writes and takes
its number in the commit's statement (``emporium_next_document_number``, migration 0033): the series'
counter row is locked from then until COMMIT, a round trip at most, and a rolled-back commit takes no number."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.pipeline import Pipeline, json_rows
from domain.invoicing.documents import Document, DocumentKind, DocumentLine, DocumentNotFound, Party, VatAmount

_ISSUE = """
INSERT INTO invoice_documents (id, kind, series, sequence, order_id, refund_reference, issued_at, body)
SELECT d.id, d.kind, d.series, emporium_next_document_number(d.series), d.order_id, d.refund_reference,
       d.issued_at, d.body
FROM jsonb_to_recordset(%s::jsonb)
    AS d(id text, kind text, series text, order_id text, refund_reference text, issued_at timestamptz, body jsonb)
ORDER BY d.series
"""
_RENDERED = "UPDATE invoice_documents SET pdf_key = %s WHERE id = %s"


def _party(p: Party) -> dict[str, Any]:
    return {"name": p.name, "address": list(p.address), "vat_id": p.vat_id, "email": p.email}


def _body(d: Document) -> dict[str, Any]:
    return {
        "order_number": d.order_number, "issue_date": d.issue_date.isoformat(), "time_zone": d.time_zone,
        "currency": d.currency, "seller": _party(d.seller), "buyer": _party(d.buyer),
        "lines": [{"description": x.description, "sku": x.sku, "quantity": x.quantity, "vat_rate": x.vat_rate,
                   "net": x.net, "vat": x.vat, "gross": x.gross} for x in d.lines],
        "vat": [{"rate": v.rate, "net": v.net, "vat": v.vat, "gross": v.gross} for v in d.vat],
        "net": d.net, "tax": d.tax, "gross": d.gross, "customer_id": d.customer_id, "guest_id": d.guest_id,
        "reason": d.reason, "paid_at": d.paid_at.isoformat() if d.paid_at else None,
    }


def _document(row: Any) -> Document:
    b = row.body
    return Document(
        id=row.id, kind=DocumentKind(row.kind), series=row.series, sequence=row.sequence, order_id=row.order_id,
        refund_reference=row.refund_reference, issued_at=row.issued_at, pdf_key=row.pdf_key,
        order_number=b["order_number"], issue_date=date.fromisoformat(b["issue_date"]), time_zone=b["time_zone"],
        currency=b["currency"], seller=Party(**{**b["seller"], "address": tuple(b["seller"]["address"])}),
        buyer=Party(**{**b["buyer"], "address": tuple(b["buyer"]["address"])}),
        lines=tuple(DocumentLine(**x) for x in b["lines"]), vat=tuple(VatAmount(**v) for v in b["vat"]),
        net=b["net"], tax=b["tax"], gross=b["gross"], customer_id=b["customer_id"], guest_id=b["guest_id"],
        reason=b["reason"], paid_at=datetime.fromisoformat(b["paid_at"]) if b["paid_at"] else None,
    )


class PostgresInvoices:
    def __init__(self, conn: AsyncConnection, pipeline: Pipeline) -> None:
        self._conn = conn  # flushing: reads see this transaction's staged writes
        self._pipeline = pipeline

    async def issue(self, document: Document) -> None:
        self._pipeline.stage(_ISSUE, (json_rows([{
            "id": document.id, "kind": document.kind.value, "series": document.series,
            "order_id": document.order_id, "refund_reference": document.refund_reference,
            "issued_at": document.issued_at.isoformat(), "body": _body(document),
        }]),))

    async def get(self, document_id: str) -> Document:
        d = t.invoice_documents
        row = (await self._conn.execute(select(d).where(d.c.id == document_id))).first()
        if row is None:
            raise DocumentNotFound(f"no document {document_id}")
        return _document(row)

    async def of_order(self, order_id: str) -> list[Document]:
        d = t.invoice_documents
        rows = (await self._conn.execute(
            select(d).where(d.c.order_id == order_id)
            .order_by((d.c.kind != "invoice"), d.c.series, d.c.sequence)
        )).all()
        return [_document(row) for row in rows]

    async def mark_rendered(self, document_id: str, pdf_key: str) -> None:
        await self.get(document_id)
        self._pipeline.stage(_RENDERED, (pdf_key, document_id))
