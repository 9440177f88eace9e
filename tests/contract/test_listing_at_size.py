"""At size, the storefront listing, the category page and the order lists read an index in their sort order.

Thousands of product documents (written by the catalog projection's own ``upsert_many``, in one go) and
of order summaries (bulk SQL), then ANALYZE: each query, exactly as its adapter sends it, is explained on
PostgreSQL, and its plan must scan an index of the big table in order (no Seq Scan of it, no Sort of all
its matches). Plans, not timings: ``emporium bench growth`` measures the time."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.engine import make_engine
from adapters.postgres.orders import PostgresOrderViews
from adapters.postgres.read_models import PostgresCatalogReadModel
from application.catalog.read_models import PriceView, ProductDocument, ProductQuery
from application.orders.read_models import OrderFilter

PRODUCTS = 3000
CUSTOMER_ORDERS = 1000
OTHER_ORDERS = 3000
BIG_TABLES = {"product_listing", "products", "order_summaries"}


@pytest.fixture(scope="module")
async def seeded(database_url: str) -> AsyncIterator[tuple[AsyncEngine, str]]:
    engine = make_engine(database_url, pool_size=2)
    unique = f"size{random.randrange(10**9)}"
    rng = random.Random(26)
    documents = [
        ProductDocument(
            id=f"{unique}-{n:05d}", slug=f"{unique}-{n:05d}", name=f"Product {rng.randrange(10**6)}", description="",
            status="active" if n % 20 else "draft", options=[], variants=[], attributes={}, media=[],
            category_ids=[f"{unique}-big"] if n % 3 == 0 else [f"{unique}-small-{n % 40}"],
            price_from=[PriceView(amount=rng.randrange(100, 100_000), currency="EUR", display="")], version=1,
        )
        for n in range(PRODUCTS)
    ]
    async with engine.begin() as conn:
        await PostgresCatalogReadModel(conn).upsert_many(documents)
        await conn.execute(text("""
            INSERT INTO read.order_summaries
                (id, number, status, customer_id, email, currency, total, refunded, placed_at, version)
            SELECT :u || '-' || n, :u || '-' || n, (ARRAY['pending', 'paid', 'shipped', 'cancelled'])[1 + n % 4],
                   CASE WHEN n < :mine THEN :u || '-customer' ELSE :u || '-other-' || (n % 500) END,
                   'a@example.com', 'EUR', 1000 + n, 0, :start + n * interval '1 minute', 1
            FROM generate_series(0, :total - 1) AS n
        """), {"u": unique, "mine": CUSTOMER_ORDERS, "total": CUSTOMER_ORDERS + OTHER_ORDERS,
               "start": datetime.now(UTC) - timedelta(days=30)})
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE read.product_listing, read.listing_currencies, read.products, "
                                "read.order_summaries"))
    yield engine, unique
    await engine.dispose()


async def plan_of(engine: AsyncEngine, read: Callable[[AsyncConnection], Awaitable[Any]]) -> dict[str, Any]:
    """The plan of the one statement ``read`` sends, with the parameters it sent."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    async with engine.connect() as conn:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            await read(conn)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
        assert len(sent) == 1, sent
        statement, parameters = sent[0]
        explained = (await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)).scalar_one()
    return explained[0]["Plan"]


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]


def assert_reads_an_index_in_order(plan: dict[str, Any], table: str) -> None:
    every = nodes(plan)
    shown = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in every]
    assert not [n for n in every if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG_TABLES], shown
    assert not [n for n in every if "Sort" in n["Node Type"]], shown
    assert [n for n in every if n["Node Type"] in ("Index Scan", "Index Only Scan")
            and n.get("Relation Name") == table], shown


async def listing(engine: AsyncEngine, query: ProductQuery) -> dict[str, Any]:
    return await plan_of(engine, lambda conn: PostgresCatalogReadModel(conn).list_products(query))


async def orders(engine: AsyncEngine, query: OrderFilter) -> dict[str, Any]:
    return await plan_of(engine, lambda conn: PostgresOrderViews(conn).page(query))


@pytest.mark.parametrize("sort", ["price_asc", "price_desc", "name", "newest"])
async def test_the_listing_reads_its_sort_index_at_size(seeded, sort) -> None:
    engine, _ = seeded
    assert_reads_an_index_in_order(await listing(engine, ProductQuery(sort=sort)), "product_listing")
    async with engine.connect() as conn:
        first = await PostgresCatalogReadModel(conn).list_products(ProductQuery(sort=sort))
    assert len(first.items) == 24
    assert first.next_cursor is not None
    assert_reads_an_index_in_order(await listing(engine, ProductQuery(sort=sort, cursor=first.next_cursor)),
                                   "product_listing")


@pytest.mark.parametrize("category", ["big", "small-1"])
async def test_a_category_page_reads_its_sort_index_at_size(seeded, category) -> None:
    engine, unique = seeded
    query = ProductQuery(category_id=f"{unique}-{category}", sort="price_asc")
    assert_reads_an_index_in_order(await listing(engine, query), "product_listing")
    async with engine.connect() as conn:
        shown = await PostgresCatalogReadModel(conn).list_products(query)
    prices = [p.price_from[0].amount for p in shown.items]
    assert len(prices) == 24
    assert prices == sorted(prices)


async def test_the_order_lists_read_their_index_in_order_at_size(seeded) -> None:
    engine, unique = seeded
    async with engine.connect() as conn:
        mine = await PostgresOrderViews(conn).page(OrderFilter(customer_id=f"{unique}-customer", limit=20))
    assert len(mine.items) == 20
    assert mine.next_cursor is not None
    for query in (
        OrderFilter(customer_id=f"{unique}-customer", limit=20),
        OrderFilter(customer_id=f"{unique}-customer", limit=20, cursor=mine.next_cursor),
        OrderFilter(status="paid"),
        OrderFilter(status="paid", cursor=mine.next_cursor),
        OrderFilter(),
        OrderFilter(cursor=mine.next_cursor),
    ):
        assert_reads_an_index_in_order(await orders(engine, query), "order_summaries")


async def test_a_buyers_unpaid_orders_are_found_by_index_among_thousands_pending(seeded) -> None:
    """Every pay-later payment counts its buyer's unpaid orders: during a pay-later sale thousands are
    pending, and the count must read the buyer's own rows, not every pending order."""
    from adapters.postgres.orders import PostgresOrders
    from adapters.postgres.pipeline import Pipeline

    engine, unique = seeded
    async with engine.begin() as conn:
        await conn.execute(text("""
            INSERT INTO orders (id, number, checkout_id, customer_id, email, status, currency, total,
                                payment_provider, payment_references, placed_at, version, data)
            SELECT :u || '-o' || n, :u || '-o' || n, :u || '-c' || n,
                   CASE WHEN n % 3 = 0 THEN :u || '-cust-' || n END, 'buyer-' || n || '@example.com',
                   CASE WHEN n % 10 = 0 THEN 'paid' ELSE 'pending' END, 'EUR', 1000, 'manual', '[]'::jsonb,
                   now() - n * interval '1 second', 1, jsonb_build_object('guest_id', :u || '-g' || n)
            FROM generate_series(0, :total - 1) AS n
        """), {"u": unique, "total": 4000})
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE orders"))

        sent: list[tuple[str, Any]] = []

        class Recording(Pipeline):  # what the repository sends, hand-written SQL through the pipeline
            async def read(self, sql: str, params: Any) -> list[Any]:
                sent.append((sql, params))
                return await super().read(sql, params)

        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            found = await PostgresOrders(conn, [], Recording(conn)).unpaid(  # type: ignore[arg-type]
                provider="manual", email="new@example.com", customer_id=f"{unique}-new", guest_id=f"{unique}-g-new")
            assert found == []  # a new buyer's: nothing unpaid yet (the usual case)
            pending = (await conn.execute(text(
                "SELECT count(*) FROM orders WHERE status = 'pending' AND id LIKE :u"), {"u": f"{unique}-o%"})).scalar()
            assert pending == 3600
            assert len(sent) == 1, sent
            statement, parameters = sent[0]
            explain = f"EXPLAIN (FORMAT JSON) {statement}"
            explained = (await conn.exec_driver_sql(explain, tuple(parameters))).scalar_one()
        every = nodes(explained[0]["Plan"])
        shown = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in every]
        assert not [n for n in every if n["Node Type"] == "Seq Scan"], shown
        used = {n.get("Index Name") for n in every if n.get("Index Name")}
        assert used == {"ix_orders_pending_email", "ix_orders_pending_customer", "ix_orders_pending_guest"}, shown
    finally:  # stand-ins, not orders: no other test of the shared database may meet them
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM orders WHERE id LIKE :u"), {"u": f"{unique}-o%"})
