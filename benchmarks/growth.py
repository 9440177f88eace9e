"""Cost curves as the shop grows (issue 26): `emporium bench growth`.

    .venv/bin/emporium bench growth [--requests 200] [--products 1000,50000] [--orders 1,1000]
                                    [--promotions 0,1000] [--lines 1,100] [--payments 50]
                                    [--rows catalog,promotions,lines]
                                    [--database emporium_bench_growth] [--port 8097]

Rows (``--rows`` picks some):
- catalog: the catalog listing (sorted by price, page 1), a category page (sorted by price) and the order
  lists (a signed-in customer's history, the staff list filtered by that customer and by status) at
  each catalog size and each count of the customer's orders;
- promotions: a guest's ``GET /store/cart`` (3 lines) and ``POST /store/cart/lines`` (the third line
  added, then taken out again untimed) at each count of live promotions that do not apply to the cart
  (a mix naming other SKUs, products, categories, coupon codes, channels and currencies, in their
  conditions or their actions);
- lines: ``GET /store/cart`` and ``POST /store/checkout/{id}/payment`` (pay later; after each, the
  shipping choice is set again, untimed, which reopens the checkout) at each number of cart lines, with
  no promotion live (``--payments`` timed payments per size).
The projection rows of the issue's table are not measured here yet.

Over HTTP against a real `emporium serve` (one process) this command starts on ``--port``:
sequential requests from one keep-alive httpx client, median and p95 ms per request as the client
sees them. Statements per request are counted at PostgreSQL: a second server start with
``log_statement = 'all'`` on the bench database (so logging never slows the timed requests), a few
requests of each kind, and the statement log read back for the ``emporium-api`` backends.

The database (``--database``) is recreated and migrated. The cart rows sell real products (created
through the bus, 100,000 units each in stock). Product documents are written by the
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
from dataclasses import dataclass
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
SHELF = 100  # real products for the cart rows (a cart holds at most 100 lines)
# Live promotions that apply to none of the bench's carts (its SKUs are G-<run>-000…099, in EUR, on the web
# channel, with no coupon entered), as a shop's might read: (rule, coupon codes of the terms).
PROMOTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("when quantity(sku:X-{run}-{n}) >= 1 then 10% off lines(sku:X-{run}-{n})", ()),
    ("when quantity(sku:X-{run}-{n}) >= 2 then buy 1 get 1 at 50% off lines(sku:X-{run}-{n}) cheapest first", ()),
    ("when quantity(product:other-{n}) >= 1 then 5.00 EUR off order", ()),
    ("when quantity(category:season-{n}) >= 2 then 15% off lines(category:season-{n})", ()),
    ("when always then 20% off lines(category:clearance-{n})", ()),
    ("when always then bundle(sku:X-{run}-{n}, sku:Y-{run}-{n}) for 25.00 EUR", ()),
    ("when coupon SAVE-{n} then 10% off order", ()),
    ("when subtotal >= 50.00 EUR then 10% off order", ("VIP-{run}-{n}",)),
    ("when channel = us and subtotal >= 50.00 USD then free shipping", ()),
    ("when currency = GBP then 5% off order", ()),
)


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
        self.skus: list[str] = []
        self.promotions = 0

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

    async def stock_shelf(self, count: int) -> None:
        """``count`` real products (write side, price list, stock) for the cart and payment rows."""
        from application.catalog.commands import CreateProduct
        from application.inventory import commands as inv
        from benchmarks.wiring import bench_bus

        bus = bench_bus(self.engine)
        location = f"shelf-{self.run}"
        await bus.handle(inv.AddLocation(id=location, name="Shelf"))
        for n in range(count):
            sku = f"G-{self.run}-{n:03d}"
            await bus.handle(CreateProduct(name=f"Growth {n}", sku=sku, price_amount=1000 + 10 * n, currency="EUR",
                                           status="active"))
            await bus.handle(inv.ReceiveStock(sku=sku, location_id=location, quantity=100_000, actor="bench"))
            self.skus.append(sku)
            print(f"\r  shelf: {n + 1} products", end="", flush=True)
        print()

    async def grow_promotions(self, count: int) -> None:
        """Live promotions up to ``count``, none of which applies to the bench's carts."""
        from application.promotions import handlers as p
        from benchmarks.wiring import bench_bus

        bus = bench_bus(self.engine)
        for n in range(self.promotions, count):
            rule, codes = PROMOTIONS[n % len(PROMOTIONS)]
            view = await bus.handle(p.CreatePromotion(terms=p.TermsInput(
                name=f"Promotion {n}", rule=rule.format(n=n, run=self.run),
                coupon_codes=tuple(c.format(n=n, run=self.run) for c in codes))))
            await bus.handle(p.PublishPromotion(promotion_id=view["id"]))
            if n % 50 == 49 or n == count - 1:
                print(f"\r  promotions: {n + 1:,} live", end="", flush=True)
        if count > self.promotions:
            print()
        self.promotions = max(self.promotions, count)

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
        # a pay-later payment of a 100-line cart, again and again from one address: within the limits
        EMPORIUM_PAY_LATER_MAX_OPEN_UNITS="1000000", EMPORIUM_PAY_LATER_PER_ADDRESS_PER_DAY="1000000",
        # one client's changes back to back, as fast as the server answers: what they cost, not how many pass
        EMPORIUM_STORE_WRITE_RATE_PER_IP="0", EMPORIUM_STORE_WRITE_RATE_PER_SESSION="0",
        EMPORIUM_COOKIE_SECURE="false",  # the guest's cookies come back over plain http (httpx keeps to Secure)
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


@dataclass
class Probe:
    """One kind of request: ``call`` is timed; ``setup`` runs once on a fresh client, ``reset`` after each
    call (both untimed, their statements not counted)."""

    call: Callable[[httpx.Client], httpx.Response]
    expect: int = 200
    setup: Callable[[httpx.Client], None] | None = None
    reset: Callable[[httpx.Client], None] | None = None
    requests: int | None = None  # timed requests, when fewer than --requests


def _get(path: str, headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None) -> Probe:
    def setup(client: httpx.Client) -> None:
        client.cookies.update(cookies or {})

    return Probe(call=lambda client: client.get(path, headers=headers or {}), setup=setup)


def _send(client: httpx.Client, method: str, path: str, body: Any = None) -> httpx.Response:
    """An unsafe storefront call as a browser makes it: the CSRF token of its cookie, an Idempotency-Key."""
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    if csrf := client.cookies.get("emporium_csrf"):
        headers["X-CSRF-Token"] = csrf
    return client.request(method, path, json=body, headers=headers)


def _fill(client: httpx.Client, skus: list[str]) -> None:
    for sku in skus:
        response = _send(client, "POST", "/store/cart/lines", {"sku": sku, "quantity": 1})
        assert response.status_code == 201, response.text[:300]


def _catalog_probes(shop: Shop) -> dict[str, Probe]:
    staff = {"Authorization": f"Bearer {shop.staff_token}"}
    return {
        "listing by price, page 1": _get("/store/products?sort=price_asc"),
        "category page by price": _get(f"/store/categories/{shop.category_slug}?sort=price_asc"),
        "my orders (customer)": _get("/store/orders", cookies=shop.session),
        "staff list, that customer": _get(f"/admin/orders?customer_id={shop.customer_id}", staff),
        "staff list, status paid": _get("/admin/orders?status=paid", staff),
    }


def _promotion_probes(shop: Shop) -> dict[str, Probe]:
    added: dict[str, str] = {}

    def add(client: httpx.Client) -> httpx.Response:
        response = _send(client, "POST", "/store/cart/lines", {"sku": shop.skus[2], "quantity": 1})
        if response.status_code == 201:
            added["line"] = next(x["id"] for x in response.json()["lines"] if x["sku"] == shop.skus[2])
        return response

    def take_out(client: httpx.Client) -> None:
        assert _send(client, "DELETE", f"/store/cart/lines/{added.pop('line')}").status_code == 200

    return {
        "GET /store/cart (3 lines)": Probe(call=lambda client: client.get("/store/cart"),
                                           setup=lambda client: _fill(client, shop.skus[:3])),
        "POST /store/cart/lines": Probe(call=add, expect=201, setup=lambda client: _fill(client, shop.skus[:2]),
                                        reset=take_out),
    }


def _line_probes(shop: Shop, lines: int, payments: int) -> dict[str, Probe]:
    from benchmarks.buyer import BERLIN

    checkout: dict[str, str] = {}

    def ready(client: httpx.Client) -> None:
        _fill(client, shop.skus[:lines])
        started = _send(client, "POST", "/store/checkout")
        assert started.status_code == 201, started.text[:300]
        base = checkout["base"] = f"/store/checkout/{started.json()['id']}"
        assert _send(client, "PUT", f"{base}/contact", {"email": f"growth-{uuid.uuid4().hex[:8]}@example.com"}
                     ).status_code == 200
        assert _send(client, "PUT", f"{base}/address", {"shipping": BERLIN}).status_code == 200
        checkout["method"] = client.get(f"{base}/shipping-options").json()[0]["id"]
        choose(client)

    def choose(client: httpx.Client) -> None:  # after a payment started: reopens the checkout
        response = _send(client, "PUT", f"{checkout['base']}/shipping", {"method_id": checkout["method"]})
        assert response.status_code == 200, response.text[:300]

    return {
        f"GET /store/cart ({lines} lines)": Probe(call=lambda client: client.get("/store/cart"),
                                                  setup=lambda client: _fill(client, shop.skus[:lines])),
        f"POST …/payment ({lines} lines)": Probe(
            call=lambda client: _send(client, "POST", f"{checkout['base']}/payment", {"provider": "manual"}),
            setup=ready, reset=choose, requests=payments),
    }


def _time(base: str, probes: dict[str, Probe], requests: int) -> dict[str, tuple[float, float]]:
    figures = {}
    for name, probe in probes.items():
        with httpx.Client(base_url=base, timeout=60) as client:
            if probe.setup is not None:
                probe.setup(client)
            samples = []
            for n in range(min(requests, probe.requests or requests) + 20):  # the first 20 warm up
                started = time.perf_counter()
                response = probe.call(client)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == probe.expect, (name, response.status_code, response.text[:300])
                if probe.reset is not None:
                    probe.reset(client)
                if n >= 20:
                    samples.append(elapsed)
            figures[name] = (statistics.median(samples), _percentile(samples, 0.95))
    return figures


def _count(base: str, probes: dict[str, Probe], log: Any) -> dict[str, float]:
    counts: dict[str, float] = {}
    for name, probe in probes.items():
        with httpx.Client(base_url=base, timeout=60) as client:
            if probe.setup is not None:
                probe.setup(client)
            statements = 0
            for n in range(3 + COUNTED):  # the first 3 warm: settings, caches, the pool
                mark = log.mark()
                assert probe.call(client).status_code == probe.expect, name
                if n >= 3:
                    statements += log.since(mark, "emporium-api").count
                if probe.reset is not None:
                    probe.reset(client)
            counts[name] = statements / COUNTED
    return counts


def _phase(shop: Shop, port: int, database: str, requests: int, probes: dict[str, Probe],
           ) -> tuple[dict[str, tuple[float, float]], dict[str, float] | str]:
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
                counts = _count(base, probes, log)
            finally:
                _stop(server)
    server = _start(shop.database_url, port, shop.run)
    try:
        return _time(base, probes, requests), counts
    finally:
        _stop(server)


# --- the run -----------------------------------------------------------------------------------------


def _sizes(value: str) -> list[int]:
    return sorted(int(v.replace("_", "")) for v in value.split(","))


Row = tuple[str, str, dict[str, tuple[float, float]], dict[str, float] | str]  # group, size, timings, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emporium bench growth")
    parser.add_argument("--products", type=_sizes, default=[1000, 50_000], help="catalog sizes, ascending")
    parser.add_argument("--orders", type=_sizes, default=[1, 1000], help="orders of the one customer, per phase")
    parser.add_argument("--promotions", type=_sizes, default=[0, 1000], help="live promotions, ascending")
    parser.add_argument("--lines", type=_sizes, default=[1, SHELF], help=f"cart lines (at most {SHELF})")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per kind and size")
    parser.add_argument("--payments", type=int, default=50, help="timed payments per cart size")
    parser.add_argument("--rows", default="catalog,promotions,lines", help="which rows: catalog, promotions, lines")
    parser.add_argument("--database", default="emporium_bench_growth")
    parser.add_argument("--port", type=int, default=8097)
    args = parser.parse_args(argv)
    groups = {g.strip() for g in args.rows.split(",") if g.strip()}
    if not groups or groups - {"catalog", "promotions", "lines"}:
        parser.error("--rows names catalog, promotions or lines")
    if len(args.products) != len(args.orders):
        parser.error("--products and --orders name one size per phase each")
    if max(args.lines) > SHELF or min(args.lines) < 1:
        parser.error(f"--lines between 1 and {SHELF}")

    run = uuid.uuid4().hex[:8]
    prefix = f"bench-growth:{run}:"
    os.environ["EMPORIUM_REDIS_KEY_PREFIX"] = prefix  # the seeding's stock gate and versions: the server's
    sys.path.insert(0, str(ROOT))
    from entrypoints.settings import get_settings

    get_settings.cache_clear()
    from adapters.postgres.migrate import ensure_database, upgrade

    database_url = _database_url(args.database)
    ensure_database(database_url, recreate=True)
    upgrade(database_url)
    shop = Shop(database_url, run)
    rows: list[Row] = []

    def measure(group: str, size: str, probes: dict[str, Probe]) -> None:
        print(f"phase {len(rows) + 1}: {group}, {size}")
        rows.append((group, size, *_phase(shop, args.port, args.database, args.requests, probes)))

    try:
        if "catalog" in groups:
            for n, (products, orders) in enumerate(zip(args.products, args.orders, strict=True)):
                if n == 0:
                    asyncio.run(_prepare(shop))
                    server = _start(database_url, args.port, run)
                    try:
                        shop.sign_up(f"http://127.0.0.1:{args.port}")
                    finally:
                        _stop(server)
                asyncio.run(_grow(shop, products, orders))
                measure("catalog", f"{products:,} products, {orders:,} orders", _catalog_probes(shop))
        if groups & {"promotions", "lines"}:
            asyncio.run(_run_and_dispose(shop, shop.stock_shelf(SHELF)))
        if "lines" in groups:
            for lines in args.lines:
                measure("lines", f"{lines} lines", _line_probes(shop, lines, args.payments))
        if "promotions" in groups:
            for count in args.promotions:
                asyncio.run(_run_and_dispose(shop, shop.grow_promotions(count)))
                measure("promotions", f"{count:,} live promotions", _promotion_probes(shop))
    finally:
        from benchmarks.wiring import forget_redis_keys

        forget_redis_keys(prefix)
    _print(rows, args.requests, args.payments)
    return 0


async def _run_and_dispose(shop: Shop, work: Any) -> None:
    await work
    await shop.engine.dispose()  # each asyncio.run has a loop of its own


async def _prepare(shop: Shop) -> None:
    await shop.prepare()
    await shop.engine.dispose()  # each asyncio.run has a loop of its own


async def _grow(shop: Shop, products: int, orders: int) -> None:
    await shop.grow_catalog(products)
    await shop.grow_orders(orders)
    await shop.engine.dispose()


def _print(rows: list[Row], requests: int, payments: int) -> None:
    print(f"\ngrowth: sequential requests over HTTP, one `emporium serve` process, {requests} timed per row "
          f"({payments} per payment row)")
    print(f"{'request':<30} {'size':<28} {'median ms':>10} {'p95 ms':>8} {'statements':>11}")
    for group in dict.fromkeys(row[0] for row in rows):
        mine = [row for row in rows if row[0] == group]
        names = list(dict.fromkeys(name for row in mine for name in row[2]))
        # the lines rows name their size in the request: one line per request kind and size
        kinds = list(dict.fromkeys(name.split(" (")[0] if group == "lines" else name for name in names))
        for kind in kinds:
            for _, size, timed, counts in mine:
                for name, (median, p95) in timed.items():
                    if (name.split(" (")[0] if group == "lines" else name) != kind:
                        continue
                    counted = f"{counts[name]:.1f}" if isinstance(counts, dict) else "-"
                    print(f"{name:<30} {size:<28} {median:>10.1f} {p95:>8.1f} {counted:>11}")
    for *_, counts in rows:
        if isinstance(counts, str):
            print(f"statements {counts}")
            break


if __name__ == "__main__":
    raise SystemExit(main())
