"""Invoices and credit notes over a whole unit of work, on the fake and on PostgreSQL with real parallelism
(each payment on its own connection): thirty orders paid at once get invoice numbers 1..30 with no gap and
no duplicate, thirty refunds at once credit notes 1..30, a replayed payment event no second invoice; and
sales count on the shop's days."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime

import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.postgres.engine import make_engine
from adapters.system.manual_payments import ManualPaymentGateway
from application.messaging.consumers import deliver
from application.orders.handlers import MarkPaid, RefundOrder
from application.payments.commands import HandlePaymentEvent
from application.ports.payments import PaymentSucceeded
from application.subscriptions import build_registry
from domain.invoicing.documents import DocumentKind
from tests.support.bus import build_bus
from tests.support.harness import MemoryHarness, PostgresHarness
from tests.support.invoicing import BERLIN, two_rate_order

N = 30


@pytest.fixture(params=["memory", "postgres"])
async def harness(request, database_url):
    if request.param == "memory":
        yield MemoryHarness()
        return
    engine = make_engine(database_url, pool_size=10, max_overflow=N)  # every payment on a connection of its own
    h = PostgresHarness(engine)
    try:
        yield h
    finally:
        await h.outbox_store.close()
        await engine.dispose()


@pytest.fixture
def uow(harness):
    return harness.uow()


def bus_for(uow, unique: str, clock):
    shop = dataclasses.replace(BERLIN, invoice_prefix=f"I{unique}", credit_note_prefix=f"C{unique}")
    return build_bus(uow=uow, clock=clock, ids=SequentialIds(), shop=shop,
                     gateways={"manual": ManualPaymentGateway()})


async def place(uow, order_ids: list[str], now: datetime, **kwargs) -> None:
    async with uow() as tx:
        for order_id in order_ids:
            await tx.orders.add(two_rate_order(order_id, now=now, **kwargs))
        await tx.commit()


async def documents(uow, order_ids: list[str]):
    async with uow() as tx:
        return [d for order_id in order_ids for d in await tx.invoices.of_order(order_id)]


async def test_orders_paid_and_refunded_at_once_are_numbered_one_to_n(uow, unique) -> None:
    now = datetime(2026, 7, 1, 9, tzinfo=UTC)
    bus = bus_for(uow, unique, FakeClock(now))
    order_ids = [f"{unique}-{n}" for n in range(N)]
    await place(uow, order_ids, now)

    await asyncio.gather(*(bus.handle(MarkPaid(order_id=o, actor="staff:kim", evidence="cash")) for o in order_ids))
    invoices = await documents(uow, order_ids)
    assert sorted(d.number for d in invoices) == [f"I{unique}-2026-{n:06d}" for n in range(1, N + 1)]
    assert {d.order_id for d in invoices} == set(order_ids)  # one each

    await asyncio.gather(*(bus.handle(RefundOrder(order_id=o, actor="staff:kim", amount=1000 + n, reason="dent"))
                           for n, o in enumerate(order_ids)))
    notes = [d for d in await documents(uow, order_ids) if d.kind is DocumentKind.CREDIT_NOTE]
    assert sorted(d.sequence for d in notes) == list(range(1, N + 1))
    assert sorted(d.gross for d in notes) == [1000 + n for n in range(N)]
    assert all(sum(v.gross for v in d.vat) == d.gross and sum(v.vat for v in d.vat) == d.tax for d in notes)


async def test_a_payment_event_replayed_at_once_and_later_makes_one_invoice(uow, unique) -> None:
    now = datetime(2026, 7, 1, 9, tzinfo=UTC)
    bus = bus_for(uow, unique, FakeClock(now))
    order_id = f"{unique}-card"
    await place(uow, [order_id], now, provider="stripe")
    async with uow() as tx:
        order = await tx.orders.get(order_id)
        order.attach_payment(provider="stripe", reference=f"pi_{unique}", now=now, actor="system")
        await tx.orders.save(order)
        await tx.commit()
    event = HandlePaymentEvent(provider="stripe", event=PaymentSucceeded(
        id=f"evt_{unique}", type="payment_intent.succeeded", created=now, payment_reference=f"pi_{unique}",
        amount=14635, currency="EUR"))
    outcomes = await asyncio.gather(*(bus.handle(event) for _ in range(5)))
    outcomes.append(await bus.handle(dataclasses.replace(event, event=dataclasses.replace(
        event.event, id=f"reconcile:pi_{unique}:succeeded"))))
    assert outcomes.count("paid") == 1
    assert [d.number for d in await documents(uow, [order_id])] == [f"I{unique}-2026-000001"]


async def test_a_sale_at_half_past_eleven_utc_counts_on_the_next_day_in_berlin(harness, uow, unique) -> None:
    late = datetime(1999, 12, 31, 23, 30, tzinfo=UTC)  # 1 January 2000, 00:30 in Berlin
    order_id = f"{unique}-late"
    bus = bus_for(uow, unique, FakeClock(late))
    await place(uow, [order_id], late)

    async def day(which: date) -> int:
        async with uow() as tx:
            rows = await tx.order_views.sales(start=which, end=which)
        return sum(r.gross for r in rows if r.currency == "EUR")

    before = (await day(date(1999, 12, 31)), await day(date(2000, 1, 1)))
    await bus.handle(MarkPaid(order_id=order_id, actor="staff:kim", evidence="cash"))
    registry = build_registry(shop=BERLIN)
    for message in await harness.outbox_for(order_id):
        if registry.get("sales_projection").handlers.get(message.topic):
            await deliver(registry, "sales_projection", message, uow)
    after = (await day(date(1999, 12, 31)), await day(date(2000, 1, 1)))
    assert after == (before[0], before[1] + 14635)
