"""Order read models on the fake and PostgreSQL: after a burst of concurrent transitions, delivered in a
shuffled order with duplicates, the projections equal a rebuild from the write side."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.system.clock import SystemClock
from adapters.system.manual_payments import ManualPaymentGateway
from application.messaging.consumers import deliver
from application.orders import handlers as o
from application.orders.projections import rebuild_order_views
from application.orders.read_models import OrderFilter, summary_of
from application.subscriptions import build_registry
from domain.orders.order import Order, OrderLine, Totals
from domain.shared.address import Address
from domain.shared.errors import DomainError
from tests.support.bus import build_bus

HOME = Address(name="Ada", line1="1 Main St", city="Berlin", postal_code="10117", country="DE")


def an_order(order_id: str, total: int, currency: str, now: datetime) -> Order:
    return Order.place(
        actor="test", now=now, id=order_id, number=f"N-{order_id}", checkout_id=f"co-{order_id}",
        customer_id=f"cust-{total % 3}", email="a@example.com", channel="web",
        lines=(OrderLine(id="l1", sku="A", product_id="p", name="A", quantity=1, unit_price=total, subtotal=total,
                         discount=0, tax=0, total=total),),
        tax_lines=(), totals=Totals(currency=currency, subtotal=total, discount=0, shipping=0, tax=0, total=total,
                                    prices_include_tax=True),
        shipping_address=HOME, billing_address=HOME, shipping_method="eu-standard", payment_provider="manual",
    )


async def snapshot(uow) -> tuple[list, list]:
    async with uow() as tx:
        page = await tx.order_views.page(OrderFilter(limit=1000))
        sales = await tx.order_views.sales(start=date(2000, 1, 1), end=date(2100, 1, 1))
    return list(page.items), sales


async def test_projections_equal_a_rebuild_after_a_burst_of_concurrent_transitions(harness, unique) -> None:
    uow = harness.uow()
    bus = build_bus(uow=uow, clock=SystemClock(), ids=harness.ids, gateways={"manual": ManualPaymentGateway()})
    now = datetime.now(UTC)
    ids = [f"{unique}-{n}" for n in range(12)]
    async with uow() as tx:
        for n, order_id in enumerate(ids):
            await tx.orders.add(an_order(order_id, 1000 + n * 100, "EUR" if n % 2 else "USD", now - timedelta(n)))
        await tx.commit()

    async def life(n: int, order_id: str) -> None:
        actor = "staff:test"
        steps = [o.MarkPaid(order_id=order_id, actor=actor, evidence="receipt 1")]
        if n % 3 == 0:
            steps += [o.FulfilOrder(order_id=order_id, actor=actor),
                      o.ShipOrder(order_id=order_id, actor=actor, carrier="DHL", tracking_number=str(n))]
        elif n % 3 == 1:
            steps += [o.RefundOrder(order_id=order_id, actor=actor, amount=300, reason="dent")]
        for step in steps:
            with contextlib.suppress(DomainError):  # the other clerk may have cancelled it first
                await bus.handle(step)

    async def racer(order_id: str) -> None:  # a second clerk cancelling at the same time
        with contextlib.suppress(DomainError):  # lost the race (the order moved on, or a concurrent save won)
            await bus.handle(o.CancelOrder(order_id=order_id, actor="staff:other", reason="duplicate"))

    await asyncio.gather(*(life(n, order_id) for n, order_id in enumerate(ids)), *(racer(i) for i in ids[::4]))

    messages = [m for order_id in ids for m in await harness.outbox_for(order_id)]
    registry = build_registry()
    deliveries = [(c, m) for m in messages for c in ("order_projection", "sales_projection")
                  if registry.get(c).handlers.get(m.topic)]
    deliveries += random.Random(7).sample(deliveries, k=len(deliveries) // 3)  # at-least-once: duplicates
    random.Random(11).shuffle(deliveries)
    for consumer, message in deliveries:
        await deliver(registry, consumer, message, uow)

    projected = await snapshot(uow)
    assert {s.id for s in projected[0]} >= set(ids)
    await rebuild_order_views(uow=uow)
    rebuilt = await snapshot(uow)
    ours = ([s for s in projected[0] if s.id in ids], projected[1])
    theirs = ([s for s in rebuilt[0] if s.id in ids], rebuilt[1])
    assert ours[0] == theirs[0]
    if harness.name == "memory":  # on PostgreSQL other tests' orders share the sales table
        assert ours[1] == theirs[1]
    async with uow() as tx:
        statuses = {order_id: (await tx.orders.get(order_id)).status.value for order_id in ids}
    assert {s.id: s.status for s in theirs[0]} == statuses


@pytest.mark.parametrize("limit", [1, 5])
async def test_the_order_list_pages_newest_first_with_filters(harness, unique, limit) -> None:
    uow = harness.uow()
    now = datetime.now(UTC)
    async with uow() as tx:
        for n in range(7):
            order = an_order(f"{unique}-p{n}", 500 + n, "EUR", now - timedelta(minutes=n))
            await tx.orders.add(order)
            await tx.order_views.put_summary(summary_of(order))
        await tx.commit()
    seen, cursor = [], None
    while True:
        async with uow() as tx:
            page = await tx.order_views.page(OrderFilter(min_total=500, max_total=506, limit=limit, cursor=cursor,
                                                         placed_from=now - timedelta(hours=1)))
        seen += [s.id for s in page.items if s.id.startswith(unique)]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"{unique}-p{n}" for n in range(7)]
