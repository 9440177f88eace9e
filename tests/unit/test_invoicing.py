"""Invoices and credit notes through the bus, on the in-memory fakes: issued in the transaction that records
the money, once per payment, numbered per series, dated in the shop's time zone, rendered to PDF by the
worker's command and downloaded by the order's shopper or staff only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.media import MemoryMediaStorage
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from adapters.system.manual_payments import ManualPaymentGateway
from application.catalog.media_commands import GetMediaObject
from application.invoicing.handlers import GetDocumentPdf, ListDocuments, RenderDocument
from application.orders.handlers import MarkPaid, RefundOrder
from application.payments.commands import HandlePaymentEvent
from application.ports.media import MediaNotFound
from application.ports.payments import PaymentSucceeded
from domain.carts.cart import Owner, OwnerKind
from domain.invoicing.documents import DocumentIssued, DocumentKind, DocumentNotFound, DocumentNotReady, VatAmount
from entrypoints.settings import SettingsError, from_environ
from tests.support.bus import build_bus
from tests.support.invoicing import BERLIN, pdf_has, two_rate_order

NOW = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2 March, 00:30 in Berlin


class Shop:
    def __init__(self, now: datetime = NOW) -> None:
        self.db, self.ids, self.clock = MemoryDatabase(), SequentialIds(), FakeClock(now)
        self.media = MemoryMediaStorage()
        self.bus = build_bus(uow=self.uow, clock=self.clock, ids=self.ids, media_storage=self.media, shop=BERLIN,
                             gateways={"manual": ManualPaymentGateway()})

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.db, self.ids)

    async def place(self, order_id: str, **kwargs) -> None:
        async with self.uow() as tx:
            await tx.orders.add(two_rate_order(order_id, now=self.clock.now(), **kwargs))
            await tx.commit()

    async def documents(self, order_id: str):
        async with self.uow() as tx:
            return await tx.invoices.of_order(order_id)

    def issued(self) -> list[str]:
        return [m.aggregate_id for m in self.db.outbox if m.topic == DocumentIssued.topic]


async def test_a_paid_order_gets_one_invoice_first_in_its_series_with_its_vat_per_rate() -> None:
    shop = Shop()
    await shop.place("o1")
    await shop.bus.handle(MarkPaid(order_id="o1", actor="staff:kim", evidence="bank transfer 42"))
    [invoice] = await shop.documents("o1")
    assert (invoice.kind, invoice.number) == (DocumentKind.INVOICE, "INV-2026-000001")
    assert invoice.vat == (VatAmount(rate=700, net=2000, vat=140, gross=2140),
                           VatAmount(rate=1900, net=10500, vat=1995, gross=12495))
    assert (invoice.net, invoice.tax, invoice.gross) == (12500, 2135, 14635)
    assert invoice.seller.vat_id == "DE123456789"
    assert invoice.buyer.name == "Grace Hopper"
    assert invoice.issue_date.isoformat() == "2026-03-02"  # Berlin's day, not UTC's
    assert shop.issued() == [invoice.id]  # its event went to the outbox with it


async def test_a_replayed_or_reconciled_payment_event_issues_no_second_invoice() -> None:
    shop = Shop()
    await shop.place("o2", provider="stripe")
    async with shop.uow() as tx:
        order = await tx.orders.get("o2")
        order.attach_payment(provider="stripe", reference="pi_2", now=NOW, actor="system")
        await tx.orders.save(order)
        await tx.commit()

    def paid(event_id: str) -> HandlePaymentEvent:
        return HandlePaymentEvent(provider="stripe", event=PaymentSucceeded(
            id=event_id, type="payment_intent.succeeded", created=NOW, payment_reference="pi_2", amount=14635,
            currency="EUR"))

    assert await shop.bus.handle(paid("evt_1")) == "paid"
    assert await shop.bus.handle(paid("evt_1")) == "duplicate"
    assert await shop.bus.handle(paid("reconcile:pi_2:succeeded")) == "ignored"
    assert [d.number for d in await shop.documents("o2")] == ["INV-2026-000001"]
    assert len(shop.issued()) == 1


async def test_a_partial_refund_gets_a_credit_note_for_that_amount_split_over_the_rates() -> None:
    shop = Shop()
    await shop.place("o3")
    await shop.bus.handle(MarkPaid(order_id="o3", actor="staff:kim", evidence="cash"))
    await shop.bus.handle(RefundOrder(order_id="o3", actor="staff:kim", amount=5000, reason="one boot pinched"))
    await shop.bus.handle(RefundOrder(order_id="o3", actor="staff:kim", amount=9635, reason="the rest"))
    invoice, first, second = await shop.documents("o3")
    assert [first.number, second.number] == ["CN-2026-000001", "CN-2026-000002"]
    # 5000 spread as 12495 : 2140 -> 4269 and 731, the VAT taken out of each share.
    assert first.vat == (VatAmount(rate=700, net=683, vat=48, gross=731),
                         VatAmount(rate=1900, net=3587, vat=682, gross=4269))
    assert (first.gross, first.reason) == (5000, "one boot pinched")
    assert second.gross == 9635
    assert first.gross + second.gross == invoice.gross


async def test_the_worker_renders_the_pdf_privately_and_only_the_orders_shopper_or_staff_download_it() -> None:
    shop = Shop()
    ada, eve = Owner(kind=OwnerKind.CUSTOMER, id="c-ada"), Owner(kind=OwnerKind.CUSTOMER, id="c-eve")
    await shop.place("o4", customer_id="c-ada")
    await shop.bus.handle(MarkPaid(order_id="o4", actor="staff:kim", evidence="cash"))
    with pytest.raises(DocumentNotReady):  # issued, not rendered yet
        await shop.bus.handle(GetDocumentPdf(order_id="o4", kind=DocumentKind.INVOICE, owner=ada))
    [document_id] = shop.issued()
    assert await shop.bus.handle(RenderDocument(document_id=document_id)) == "rendered"
    assert await shop.bus.handle(RenderDocument(document_id=document_id)) == "already-rendered"

    pdf = await shop.bus.handle(GetDocumentPdf(order_id="o4", kind=DocumentKind.INVOICE, owner=ada))
    assert pdf.filename == "INV-2026-000001.pdf"
    assert pdf.data.startswith(b"%PDF")
    for text in ("INV-2026-000001", "Grace Hopper", "Emporium GmbH", "DE123456789", "19%", "7%", "March 2, 2026",
                 "Europe/Berlin", "€146.35", "€19.95", "€1.40"):
        assert pdf_has(pdf.data, text), text
    staff = await shop.bus.handle(GetDocumentPdf(order_id="o4", kind=DocumentKind.INVOICE))
    assert staff.data == pdf.data
    with pytest.raises(DocumentNotFound):
        await shop.bus.handle(GetDocumentPdf(order_id="o4", kind=DocumentKind.INVOICE, owner=eve))
    assert await shop.bus.handle(ListDocuments(order_id="o4", owner=eve)) == []
    [summary] = await shop.bus.handle(ListDocuments(order_id="o4", owner=ada))
    assert (summary.number, summary.ready, summary.gross) == ("INV-2026-000001", True, 14635)
    [stored] = [key for key in shop.media.objects if key.startswith("documents/")]
    with pytest.raises(MediaNotFound):  # never served by /media
        await shop.bus.handle(GetMediaObject(key=stored))


async def test_a_credit_note_pdf_names_the_invoice_it_corrects_and_its_amount() -> None:
    shop = Shop()
    await shop.place("o5")
    await shop.bus.handle(MarkPaid(order_id="o5", actor="staff:kim", evidence="cash"))
    await shop.bus.handle(RefundOrder(order_id="o5", actor="staff:kim", amount=5000, reason="goodwill"))
    for document_id in shop.issued():
        await shop.bus.handle(RenderDocument(document_id=document_id))
    pdf = await shop.bus.handle(GetDocumentPdf(order_id="o5", kind=DocumentKind.CREDIT_NOTE, number="CN-2026-000001"))
    for text in ("Credit note CN-2026-000001", "INV-2026-000001", "€50.00", "€6.82", "€0.48", "goodwill"):
        assert pdf_has(pdf.data, text), text


@pytest.mark.parametrize(("variable", "value"), [("EMPORIUM_SHOP_TIME_ZONE", "Mars/Olympus_Mons"),
                                                 ("EMPORIUM_SHOP_TIME_ZONE", "../etc/passwd"),
                                                 ("EMPORIUM_SHOP_LOCALE", "xx_YY")])
def test_an_unknown_shop_time_zone_or_locale_stops_the_start_naming_the_variable(variable, value) -> None:
    with pytest.raises(SettingsError, match=variable):
        from_environ({variable: value})
    assert from_environ({"EMPORIUM_SHOP_TIME_ZONE": "Europe/Berlin"}).shop_time_zone == "Europe/Berlin"
