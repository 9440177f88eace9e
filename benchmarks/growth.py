"""Cost curves as the shop grows (issue 26): `emporium bench growth`.

    .venv/bin/emporium bench growth [--requests 200] [--products 1000,50000] [--orders 1,1000]
                                    [--database emporium_bench_growth] [--port 8097]

Covers, for now, the catalog listing (sorted by price, page 1), a category page (sorted by price) and
the order lists (a signed-in customer's history, the staff list filtered by that customer and by
status) at each catalog size and each count of the customer's orders. The cart, payment and
projection rows of the issue's table are not measured here yet.

Over HTTP against a real `emporium serve` (one process) this command starts on ``--port``:
sequential requests from one keep-alive httpx client, median and p95 ms per request as the client
sees them. Statements per request are counted at PostgreSQL: a second server start with
``log_statement = 'all'`` on the bench database (so logging never slows the timed requests), a few
requests of each kind, and the statement log read back for the ``emporium-api`` backends.

The database (``--database``) is recreated and migrated. Product documents are written by the
catalog projection's own bulk path (``upsert_many``, as ``emporium projections rebuild`` writes them),
in pages of 1,000, each product in one of 20 categories; order summaries (the read model both lists
read) by bulk SQL, beside 10,000 orders of other customers. Both tables are ANALYZEd after each seed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = 20
OTHER_ORDERS = 10_000
COUNTED = 5  # requests per kind whose statements are counted


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _database_url(name: str) -> str:
    from adapters.postgres.engine import normalise_url
    from entrypoints.settings import get_settings

    return make_url(normalise_url(get_settings().database_url)).set(database=name).render_as_string(
        hide_password=False)


# --- seeding ----------------------------------------------------------------------------------------


class Shop:
    """What the requests need: a category slug, a customer's id and session, a staff token."""

    def __init__(self, database_url: str, run: str) -> None:
        from adapters.postgres.engine import make_engine

        self.database_url, self.run = database_url, run
        self.engine = make_engine(database_url, pool_size=2)
        self.products = 0
        self.orders = 0
        self.category_ids: list[str] = []
        self.category_slug = ""
        self.customer_id = ""
        self.session: dict[str, str] = {}
        self.staff_token = ""

    async def prepare(self) -> None:
        from adapters.postgres.unit_of_work import PostgresUnitOfWork
        from adapters.system.clock import UuidIdGenerator
        from application.catalog.categories import AddCategory
        from application.staff.handlers import IssueStaffToken
        from benchmarks.wiring import bench_bus
        from domain.staff.roles import Role

        bus = bench_bus(self.engine)
        for n in range(CATEGORIES):
            self.category_ids.append(await bus.handle(AddCategory(name=f"Shelf {n} {self.run}")))
        async with PostgresUnitOfWork(self.engine, UuidIdGenerator()) as tx:  # the category projection's write
            tree = await tx.categories.tree()
            await tx.category_view.replace(list(tree.nodes.values()), tree.version)
            await tx.commit()
        self.category_slug = f"shelf-0-{self.run}"
        self.staff_token = (await bus.handle(IssueStaffToken(name="bench growth", role=Role.OWNER))).token
        await self._orders_of_others()

    async def grow_catalog(self, products: int) -> None:
        from adapters.postgres.read_models import PostgresCatalogReadModel
        from application.catalog.read_models import MediaView, PriceView, ProductDocument, VariantView

        rng = random.Random(self.products)
        for start in range(self.products, products, 1000):
            documents = []
            for n in range(start, min(start + 1000, products)):
                product_id = f"{self.run}-{n:06d}"
                price = rng.randrange(500, 50_000)
                prices = [PriceView(amount=price + 100 * v, currency="EUR", display="") for v in range(3)]
                documents.append(ProductDocument(
                    id=product_id, slug=f"p-{product_id}", name=f"Product {rng.randrange(10**6)} {n}",
                    description="A sturdy thing for every day. " * 10, status="active", options=[],
                    variants=[VariantView(sku=f"{product_id}-{v}", option_values={"size": str(v)}, weight_grams=500,
                                          barcode=None, components=[], prices=[prices[v]]) for v in range(3)],
                    attributes={"colour": rng.choice(["red", "blue", "green"]), "material": "cotton"},
                    category_ids=[self.category_ids[n % CATEGORIES]],
                    media=[MediaView(url=f"https://cdn.example.com/{product_id}.jpg", alt="")],
                    price_from=[prices[0]], version=1,
                ))
            async with self.engine.begin() as conn:
                await PostgresCatalogReadModel(conn).upsert_many(documents)
            print(f"\r  catalog: {min(start + 1000, products):,} products", end="", flush=True)
        print()
        self.products = products
        await self._analyze()

    async def _orders_of_others(self) -> None:
        await self._insert_orders(0, OTHER_ORDERS, lambda: f"'{self.run}-other-' || (n % 2000)")

    async def grow_orders(self, orders: int) -> None:
        await self._insert_orders(self.orders, orders, lambda: f"'{self.customer_id}'", prefix="mine")
        self.orders = orders
        await self._analyze()

    async def _insert_orders(self, start: int, end: int, customer: Callable[[], str], prefix: str = "other") -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(f"""
                INSERT INTO read.order_summaries
                    (id, number, status, customer_id, email, currency, total, refunded, placed_at, version)
                SELECT :run || '-{prefix}-' || n, :run || '-{prefix}-' || n,
                       (ARRAY['pending', 'paid', 'fulfilled', 'shipped', 'cancelled'])[1 + n % 5],
                       {customer()}, 'shopper@example.com', 'EUR', 1000 + n, 0,
                       :start + n * interval '1 minute', 1
                FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS n
            """), {"run": self.run, "first": start, "last": end - 1,
                   "start": datetime.now(UTC) - timedelta(days=60)})

    async def _analyze(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE read.products, read.product_listing, read.listing_currencies, "
                                    "read.order_summaries"))

    def sign_up(self, base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            response = client.post("/store/customers", json={
                "email": f"growth-{self.run}@example.com", "password": f"Growth-bench-{self.run}!", "name": "Ada"})
            assert response.status_code == 201, response.text
            self.customer_id = response.json()["customer"]["id"]
            self.session = dict(client.cookies)


# --- the server and the requests ---------------------------------------------------------------------


def _start(database_url: str, port: int, run: str) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ, DATABASE_URL=database_url, EMPORIUM_PORT=str(port), EMPORIUM_LOG_LEVEL="WARNING",
        EMPORIUM_ENVIRONMENT="development", EMPORIUM_REDIS_KEY_PREFIX=f"bench-growth:{run}:",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    server = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=env, cwd=ROOT,
                              start_new_session=True)
    from entrypoints.cli.processes import wait_http

    if not wait_http(f"http://127.0.0.1:{port}/health/live", timeout=60):
        _stop(server)
        raise RuntimeError("the server did not start")
    return server


def _stop(server: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _requests(shop: Shop) -> dict[str, tuple[str, dict[str, str], dict[str, str]]]:
    """name -> (path, headers, cookies)."""
    staff = {"Authorization": f"Bearer {shop.staff_token}"}
    return {
        "listing by price, page 1": ("/store/products?sort=price_asc", {}, {}),
        "category page by price": (f"/store/categories/{shop.category_slug}?sort=price_asc", {}, {}),
        "my orders (customer)": ("/store/orders", {}, shop.session),
        "staff list, that customer": (f"/admin/orders?customer_id={shop.customer_id}", staff, {}),
        "staff list, status paid": ("/admin/orders?status=paid", staff, {}),
    }


def _time(base: str, shop: Shop, requests: int) -> dict[str, tuple[float, float]]:
    figures = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for name, (path, headers, cookies) in _requests(shop).items():
            client.cookies.clear()
            client.cookies.update(cookies)
            samples = []
            for n in range(requests + 20):  # the first 20 warm up
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (path, response.status_code, response.text[:300])
                if n >= 20:
                    samples.append(elapsed)
            figures[name] = (statistics.median(samples), _percentile(samples, 0.95))
    return figures


def _count(base: str, shop: Shop, log: Any) -> dict[str, float]:
    counts: dict[str, float] = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for name, (path, headers, cookies) in _requests(shop).items():
            client.cookies.clear()
            client.cookies.update(cookies)
            for _ in range(3):
                client.get(path, headers=headers)  # warm: settings, caches, the pool
            mark = log.mark()
            for _ in range(COUNTED):
                assert client.get(path, headers=headers).status_code == 200
            counts[name] = log.since(mark, "emporium-api").count / COUNTED
    return counts


def _phase(shop: Shop, port: int, database: str, requests: int) -> tuple[dict[str, tuple[float, float]],
                                                                          dict[str, float] | str]:
    from tests.support.statement_log import StatementLog

    from adapters.postgres.engine import normalise_url
    from adapters.postgres.outbox import libpq_dsn

    base = f"http://127.0.0.1:{port}"
    counts: dict[str, float] | str
    try:
        log = StatementLog(libpq_dsn(normalise_url(shop.database_url)), database)
    except AssertionError as error:  # no readable server log: timings only
        counts = f"not counted ({str(error).splitlines()[0]})"
    else:
        with log:
            server = _start(shop.database_url, port, shop.run)
            try:
                counts = _count(base, shop, log)
            finally:
                _stop(server)
    server = _start(shop.database_url, port, shop.run)
    try:
        return _time(base, shop, requests), counts
    finally:
        _stop(server)


# --- the run -----------------------------------------------------------------------------------------


def _sizes(value: str) -> list[int]:
    return sorted(int(v.replace("_", "")) for v in value.split(","))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emporium bench growth")
    parser.add_argument("--products", type=_sizes, default=[1000, 50_000], help="catalog sizes, ascending")
    parser.add_argument("--orders", type=_sizes, default=[1, 1000], help="orders of the one customer, per phase")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per kind and size")
    parser.add_argument("--database", default="emporium_bench_growth")
    parser.add_argument("--port", type=int, default=8097)
    args = parser.parse_args(argv)
    if len(args.products) != len(args.orders):
        parser.error("--products and --orders name one size per phase each")

    sys.path.insert(0, str(ROOT))
    from adapters.postgres.migrate import ensure_database, upgrade

    database_url = _database_url(args.database)
    ensure_database(database_url, recreate=True)
    upgrade(database_url)
    run = uuid.uuid4().hex[:8]
    shop = Shop(database_url, run)
    rows: list[tuple[int, int, dict[str, tuple[float, float]], dict[str, float] | str]] = []

    try:
        for n, (products, orders) in enumerate(zip(args.products, args.orders, strict=True)):
            if n == 0:
                asyncio.run(_prepare(shop))
                server = _start(database_url, args.port, run)
                try:
                    shop.sign_up(f"http://127.0.0.1:{args.port}")
                finally:
                    _stop(server)
            print(f"phase {n + 1}: {products:,} products, {orders:,} orders of the customer")
            asyncio.run(_grow(shop, products, orders))
            timed, counts = _phase(shop, args.port, args.database, args.requests)
            rows.append((products, orders, timed, counts))
    finally:
        from benchmarks.wiring import forget_redis_keys

        forget_redis_keys(f"bench-growth:{run}:")
    _print(rows, args.requests)
    return 0


async def _prepare(shop: Shop) -> None:
    await shop.prepare()
    await shop.engine.dispose()  # each asyncio.run has a loop of its own


async def _grow(shop: Shop, products: int, orders: int) -> None:
    await shop.grow_catalog(products)
    await shop.grow_orders(orders)
    await shop.engine.dispose()


def _print(rows: list[tuple[int, int, dict[str, tuple[float, float]], dict[str, float] | str]], requests: int) -> None:
    print(f"\ngrowth: sequential requests over HTTP, one `emporium serve` process, {requests} timed per row")
    print(f"{'request':<28} {'products':>9} {'orders':>7} {'median ms':>10} {'p95 ms':>8} {'statements':>11}")
    for name in rows[0][2]:
        for products, orders, timed, counts in rows:
            median, p95 = timed[name]
            counted = f"{counts[name]:.1f}" if isinstance(counts, dict) else "-"
            print(f"{name:<28} {products:>9,} {orders:>7,} {median:>10.1f} {p95:>8.1f} {counted:>11}")
    for _, _, _, counts in rows:
        if isinstance(counts, str):
            print(f"statements {counts}")
            break


if __name__ == "__main__":
    raise SystemExit(main())
