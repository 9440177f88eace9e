"""Top products and promotion impact from order facts, on the fake and PostgreSQL: only paid orders
count, per currency and date range, and facts delivered twice count once."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from application.messaging.codec import event_to_builtins
from domain.orders.order import OrderPaid, OrderPlaced


def a_quiet_day() -> date:
    """A day no other test writes facts on (the PostgreSQL test database is shared)."""
    return date(2001, 1, 1) + timedelta(days=random.randrange(8000))


def facts_of_order(
    order_id: str, *, currency: str, placed_on: date, paid_on: date | None,
    lines: tuple[tuple[str, int, int], ...], promotions: tuple[tuple[str, int, int], ...] = (),
    shipping: int = 0, tax: int = 0,
) -> list[dict]:
    placed_at = datetime.combine(placed_on, time(10), UTC)
    subtotal = sum(total for _, _, total in lines)
    discount = sum(amount for _, _, amount in promotions)
    placed = OrderPlaced(
        aggregate_id=order_id, aggregate_version=1, occurred_at=placed_at, customer_id=None, currency=currency,
        status="pending", email="a@example.com", checkout_id=f"co-{order_id}", total=subtotal + shipping,
        subtotal=subtotal + discount, discount=discount, shipping=shipping, tax=tax, lines=lines,
        promotions=promotions,
    )
    facts = [{"event_id": uuid.uuid4().hex, "topic": placed.topic, "aggregate_id": order_id,
              "occurred_at": placed_at, "payload": event_to_builtins(placed)}]
    if paid_on is not None:
        paid_at = datetime.combine(paid_on, time(23, 59), UTC)
        paid = OrderPaid(aggregate_id=order_id, aggregate_version=2, occurred_at=paid_at, customer_id=None,
                         currency=currency, status="paid", amount=placed.total, payment_reference="manual")
        facts.append({"event_id": uuid.uuid4().hex, "topic": paid.topic, "aggregate_id": order_id,
                      "occurred_at": paid_at, "payload": event_to_builtins(paid)})
    return facts


async def record(harness, facts: list[dict]) -> int:
    async with harness.uow()() as tx:
        new = sum([await tx.analytics.record_domain_event(**fact) for fact in facts])
        await tx.commit()
    return new


async def test_top_products_count_paid_orders_per_currency_in_the_range(harness, unique) -> None:
    day = a_quiet_day()
    boot, sock = f"BOOT-{unique}", f"SOCK-{unique}"
    facts = [
        *facts_of_order(f"a-{unique}", currency="EUR", placed_on=day - timedelta(days=1), paid_on=day,
                        lines=((boot, 2, 11900), (sock, 3, 2700))),
        *facts_of_order(f"b-{unique}", currency="EUR", placed_on=day, paid_on=day + timedelta(days=1),
                        lines=((sock, 1, 900),)),
        *facts_of_order(f"c-{unique}", currency="EUR", placed_on=day, paid_on=None, lines=((boot, 5, 29750),)),
        *facts_of_order(f"d-{unique}", currency="USD", placed_on=day, paid_on=day, lines=((boot, 1, 6500),)),
        *facts_of_order(f"e-{unique}", currency="EUR", placed_on=day, paid_on=day + timedelta(days=2),
                        lines=((boot, 1, 5950),)),
    ]
    assert await record(harness, facts) == len(facts)
    async with harness.uow()() as tx:
        rows = await tx.analytics.top_products(day, day + timedelta(days=1), currency=None, limit=10)
        eur_top = await tx.analytics.top_products(day, day + timedelta(days=1), currency="EUR", limit=1)
    got = {(r.currency, r.sku): (r.orders, r.units, r.revenue) for r in rows}
    assert got == {
        ("EUR", boot): (1, 2, 11900),  # the unpaid order and the one paid after the range do not count
        ("EUR", sock): (2, 4, 3600),
        ("USD", boot): (1, 1, 6500),
    }
    assert [(r.currency, r.sku) for r in rows] == [("EUR", boot), ("EUR", sock), ("USD", boot)]
    assert [(r.sku, r.revenue) for r in eur_top] == [(boot, 11900)]


async def test_promotion_impact_sums_discount_per_version_over_paid_orders(harness, unique) -> None:
    day = a_quiet_day()
    promo, other = f"promo-{unique}", f"other-{unique}"
    facts = [
        # One order-wide promotion spread over two lines still counts the order once.
        *facts_of_order(f"a-{unique}", currency="EUR", placed_on=day, paid_on=day, shipping=490,
                        lines=((f"A-{unique}", 1, 4000), (f"B-{unique}", 1, 2000)),
                        promotions=((promo, 1, 700), (promo, 1, 300), (other, 3, 500))),
        *facts_of_order(f"b-{unique}", currency="EUR", placed_on=day, paid_on=day,
                        lines=((f"A-{unique}", 1, 4500),), promotions=((promo, 2, 500),)),
        *facts_of_order(f"c-{unique}", currency="EUR", placed_on=day, paid_on=None,
                        lines=((f"A-{unique}", 1, 4000),), promotions=((promo, 1, 1000),)),
        *facts_of_order(f"d-{unique}", currency="USD", placed_on=day, paid_on=day,
                        lines=((f"A-{unique}", 2, 9000),), promotions=((promo, 1, 1000),)),
        *facts_of_order(f"e-{unique}", currency="EUR", placed_on=day, paid_on=day, lines=((f"A-{unique}", 1, 5000),)),
    ]
    await record(harness, facts)
    async with harness.uow()() as tx:
        rows = await tx.analytics.promotion_impact(day, day, currency=None)
        usd = await tx.analytics.promotion_impact(day, day, currency="USD")
    got = {(r.currency, r.promotion_id, r.version): (r.orders, r.discount, r.revenue) for r in rows}
    assert got == {
        ("EUR", promo, 1): (1, 1000, 6490),
        ("EUR", other, 3): (1, 500, 6490),
        ("EUR", promo, 2): (1, 500, 4500),
        ("USD", promo, 1): (1, 1000, 9000),
    }
    assert [(r.currency, r.promotion_id, r.version) for r in rows] == [  # largest discount first, per currency
        ("EUR", promo, 1), ("EUR", other, 3), ("EUR", promo, 2), ("USD", promo, 1)]
    assert [(r.currency, r.orders) for r in usd] == [("USD", 1)]


async def test_replayed_order_facts_do_not_double_count(harness, unique) -> None:
    day = a_quiet_day()
    sku, promo = f"HAT-{unique}", f"promo-{unique}"
    facts = facts_of_order(f"a-{unique}", currency="EUR", placed_on=day, paid_on=day,
                           lines=((sku, 2, 3000),), promotions=((promo, 1, 600),))
    assert await record(harness, facts) == 2

    async def reports() -> tuple[list, list, int]:
        async with harness.uow()() as tx:
            return (await tx.analytics.top_products(day, day, currency="EUR", limit=10),
                    await tx.analytics.promotion_impact(day, day, currency="EUR"),
                    (await tx.analytics.funnel(day, day)).paid)

    first = await reports()
    assert await record(harness, facts) == 0  # delivered again, as at-least-once delivery may
    assert await record(harness, list(reversed(facts))) == 0
    assert await reports() == first
    assert [(r.units, r.revenue) for r in first[0]] == [(2, 3000)]
    assert [(r.orders, r.discount) for r in first[1]] == [(1, 600)]
    assert first[2] == 1
