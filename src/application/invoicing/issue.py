"""Issuing documents in the transaction that records the money: an invoice when an order is paid, a
credit note when money goes back. Every use case that pays or refunds an order calls ``issue_documents``
after saving the order and before committing; what it issues is read from the order's pending events,
so a payment recorded once (``Order.pay`` ignores a replay) is invoiced once."""

from __future__ import annotations

from datetime import datetime

from application.invoicing.ports import InvoicingUnitOfWork
from application.ports.clock import IdGenerator
from domain.invoicing.documents import Document, DocumentIssued
from domain.invoicing.drafting import credit_note_for, invoice_for
from domain.orders.order import Order, OrderPaid, OrderRefunded
from domain.shared.shop import Shop


async def issue_documents(tx: InvoicingUnitOfWork, order: Order, *, shop: Shop, ids: IdGenerator,
                          now: datetime) -> list[Document]:
    """Stage the invoice of a payment and one credit note for the refunds ``order`` recorded in this
    transaction (a refund split between card and gift card is one credit note), each with its
    ``DocumentIssued`` for the outbox. Their numbers are taken when ``tx`` commits."""
    pending = list(order.events)
    issued: list[Document] = []
    if any(isinstance(event, OrderPaid) for event in pending):
        issued.append(invoice_for(order, id=ids.new_id(), shop=shop, now=now))
    refunds = [event for event in pending if isinstance(event, OrderRefunded)]
    if refunds:
        references = [event.refund_reference for event in refunds]
        reasons = dict.fromkeys(r.reason for r in order.refunds if r.reference in references and r.reason)
        issued.append(credit_note_for(
            order, id=ids.new_id(), amount=sum(event.amount for event in refunds), reference="+".join(references),
            reason="; ".join(reasons), shop=shop, now=now,
        ))
    for document in issued:
        await tx.invoices.issue(document)
        tx.record(DocumentIssued(aggregate_id=document.id, aggregate_version=1, occurred_at=now,
                                 order_id=order.id, kind=document.kind.value))
    return issued
