"""The InvoiceStore contract (``InvoiceStoreContract``) on the in-memory fake and PostgreSQL: a document takes
the next number of its series when its unit of work commits and none when it rolls back, concurrent units of
work number 1..N with no gap and no duplicate, and an order gets one invoice and one credit note per refund."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest

from adapters.memory.clock import SequentialIds
from adapters.postgres.engine import make_engine
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from domain.invoicing.documents import DocumentKind
from domain.invoicing.drafting import credit_note_for, invoice_for
from domain.shared.errors import Conflict
from domain.shared.shop import Shop
from tests.support.invoicing import BERLIN, two_rate_order

NOW = datetime(2026, 5, 4, 10, tzinfo=UTC)


def shop_for(unique: str) -> Shop:
    """A series of the test's own: the database is shared, and numbers count per series."""
    return dataclasses.replace(BERLIN, invoice_prefix=f"I{unique}", credit_note_prefix=f"C{unique}")


class InvoiceStoreContract:
    """What every InvoiceStore does alike. A subclass provides ``uow``: a unit-of-work factory of its kind."""

    @pytest.fixture
    def uow(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def _issue(self, uow, shop: Shop, order_id: str, *, commit: bool = True) -> str:
        order = two_rate_order(order_id, now=NOW)
        document = invoice_for(order, id=f"d-{order_id}", shop=shop, now=NOW)
        async with uow() as tx:
            await tx.invoices.issue(document)
            if commit:
                await tx.commit()
        return document.id

    async def test_a_document_is_numbered_when_its_unit_of_work_commits(self, uow, unique) -> None:
        shop = shop_for(unique)
        first = await self._issue(uow, shop, f"{unique}-1")
        second = await self._issue(uow, shop, f"{unique}-2")
        async with uow() as tx:
            a, b = await tx.invoices.get(first), await tx.invoices.get(second)
            [listed] = await tx.invoices.of_order(f"{unique}-1")
        assert (a.number, b.number) == (f"I{unique}-2026-000001", f"I{unique}-2026-000002")
        assert listed == a
        assert a.vat == invoice_for(two_rate_order("x", now=NOW), id="x", shop=shop, now=NOW).vat
        assert (a.buyer, a.seller, a.issue_date, a.pdf_key) == (b.buyer, b.seller, NOW.date(), None)

    async def test_a_rolled_back_unit_of_work_takes_no_number(self, uow, unique) -> None:
        shop = shop_for(unique)
        await self._issue(uow, shop, f"{unique}-1", commit=False)
        kept = await self._issue(uow, shop, f"{unique}-2")
        async with uow() as tx:
            assert (await tx.invoices.get(kept)).sequence == 1
            assert await tx.invoices.of_order(f"{unique}-1") == []

    async def test_an_order_gets_one_invoice_and_one_credit_note_per_refund(self, uow, unique) -> None:
        shop, order = shop_for(unique), two_rate_order(f"{unique}-o", now=NOW)
        await self._issue(uow, shop, f"{unique}-o")
        with pytest.raises(Conflict):
            await self._issue(uow, shop, f"{unique}-o")  # another id, the same order
        note = credit_note_for(order, id=f"cn-{unique}", amount=500, reference="re_1", reason="", shop=shop, now=NOW)
        for attempt in (note, dataclasses.replace(note, id=f"cn2-{unique}")):
            async with uow() as tx:
                await tx.invoices.issue(attempt)
                if attempt is note:
                    await tx.commit()
                else:
                    with pytest.raises(Conflict):
                        await tx.commit()
        async with uow() as tx:
            documents = await tx.invoices.of_order(order.id)
        assert [(d.kind, d.sequence) for d in documents] == [(DocumentKind.INVOICE, 1), (DocumentKind.CREDIT_NOTE, 1)]

    async def test_concurrent_units_of_work_number_one_to_n_without_a_gap(self, uow, unique) -> None:
        shop = shop_for(unique)

        async def one(n: int) -> None:
            await self._issue(uow, shop, f"{unique}-{n}", commit=n % 7 != 3)  # some roll back

        await asyncio.gather(*(one(n) for n in range(30)))
        async with uow() as tx:
            numbers = [d.sequence for n in range(30) for d in await tx.invoices.of_order(f"{unique}-{n}")]
        committed = sum(1 for n in range(30) if n % 7 != 3)
        assert sorted(numbers) == list(range(1, committed + 1))

    async def test_where_its_pdf_is_stored_is_remembered(self, uow, unique) -> None:
        document_id = await self._issue(uow, shop_for(unique), f"{unique}-1")
        async with uow() as tx:
            await tx.invoices.mark_rendered(document_id, f"documents/invoice/{document_id}.pdf")
        async with uow() as tx:  # not committed: not remembered
            assert (await tx.invoices.get(document_id)).pdf_key is None
            await tx.invoices.mark_rendered(document_id, f"documents/invoice/{document_id}.pdf")
            await tx.commit()
        async with uow() as tx:
            assert (await tx.invoices.get(document_id)).pdf_key == f"documents/invoice/{document_id}.pdf"


class TestMemoryInvoiceStore(InvoiceStoreContract):
    @pytest.fixture
    def uow(self, memory_harness):
        return memory_harness.uow()


class TestPostgresInvoiceStore(InvoiceStoreContract):
    @pytest.fixture
    async def uow(self, database_url):
        # Thirty connections: the concurrent units of work really run at once, each on its own.
        engine = make_engine(database_url, pool_size=10, max_overflow=20)
        ids = SequentialIds()
        try:
            yield lambda: PostgresUnitOfWork(engine, ids)
        finally:
            await engine.dispose()
