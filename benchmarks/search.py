"""Search latency and freshness on PostgreSQL and Meilisearch, side by side.

    .venv/bin/emporium bench search [--products 100000] [--queries 300] [--backends postgres,meilisearch]

Seeds N generated product documents straight into each index (the catalog write side is not
needed to measure the engine), then times a typo-tolerant query with three filters (category,
colour, price range) and facet counts, sequentially, on each adapter. Freshness is measured on
the real pipeline: a price change and a stock change committed through the message bus travel
outbox -> relay -> Dramatiq worker -> indexer, and the clock stops when search returns the new
value. Meilisearch comes from the pinned npm package (see tests/support/meilisearch_server.py).
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
from collections.abc import Iterator
from typing import Any

from adapters.meilisearch.index import MeilisearchSearchIndex
from adapters.postgres.engine import make_engine, normalise_url
from adapters.postgres.migrate import ensure_database, upgrade
from adapters.postgres.search import PostgresSearchIndex
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import UuidIdGenerator
from application.catalog import commands as c
from application.catalog.categories import AddCategory
from application.inventory import commands as inv
from application.search.documents import SearchDocument
from application.search.ports import IndexQuery
from benchmarks.wiring import bench_bus
from entrypoints.settings import get_settings

BRANDS = ["Alpen", "Borealis", "Cirrus", "Dune", "Ember", "Fjord", "Granite", "Harbor", "Ion", "Juniper"]
ADJECTIVES = ["Light", "Trail", "Road", "Classic", "Urban", "Alpine", "Coastal", "Summit", "Rapid", "Soft"]
PRODUCTS = {  # category -> nouns
    "shoes": ["Running Shoes", "Walking Shoes", "Hiking Boots", "Sneakers", "Sandals"],
    "jackets": ["Rain Jacket", "Down Jacket", "Softshell Jacket", "Windbreaker", "Fleece"],
    "bags": ["Backpack", "Duffel Bag", "Hip Pack", "Tote", "Dry Bag"],
    "socks": ["Running Socks", "Hiking Socks", "Wool Socks", "Liner Socks", "Compression Socks"],
    "shirts": ["Running Shirt", "Base Layer", "Polo Shirt", "Tank Top", "Long Sleeve Tee"],
    "trousers": ["Hiking Trousers", "Running Tights", "Shorts", "Joggers", "Rain Trousers"],
    "camping": ["Tent", "Sleeping Bag", "Camping Stove", "Head Torch", "Water Filter"],
    "accessories": ["Cap", "Gloves", "Sunglasses", "Gaiters", "Water Bottle"],
}
COLOURS = ["red", "blue", "black", "green", "grey", "orange", "yellow", "white", "purple", "brown"]
MATERIALS = ["mesh", "leather", "nylon", "merino", "cotton", "polyester", "gore-tex", "canvas"]
# Typo-tolerant queries with three filters; each is misspelt once the way shoppers do.
QUERIES = [
    ("runing shoes", "shoes"), ("hikng boots", "shoes"), ("rain jaket", "jackets"), ("backpak", "bags"),
    ("wool sokcs", "socks"), ("runing tights", "trousers"), ("sleping bag", "camping"), ("sunglases", "accessories"),
]


def documents(count: int, seed: int = 7) -> Iterator[SearchDocument]:
    rng = random.Random(seed)
    categories = list(PRODUCTS)
    for n in range(count):
        category = categories[n % len(categories)]
        noun = rng.choice(PRODUCTS[category])
        colour, material = rng.choice(COLOURS), rng.choice(MATERIALS)
        name = f"{rng.choice(BRANDS)} {rng.choice(ADJECTIVES)} {noun} {n}"
        yield SearchDocument(
            id=f"{n:08d}", slug=f"bench-{n}", name=name,
            description=f"{colour.title()} {material} {noun.lower()} for every day outdoors. Model {n}.",
            category_ids=[category, f"{category}-{n % 7}"],
            attributes={"colour": [colour], "material": [material], "size": [str(36 + n % 12)]},
            prices={"EUR": rng.randrange(500, 40_000), "USD": rng.randrange(500, 45_000)},
            in_stock=rng.random() > 0.1, sold=rng.randrange(0, 5000),
        )


def query_for(n: int) -> IndexQuery:
    text_, category = QUERIES[n % len(QUERIES)]
    low = 2000 + (n * 37) % 5000
    return IndexQuery(text=text_, category_id=category, attributes={"colour": COLOURS[n % len(COLOURS)]},
                      min_price=low, max_price=low + 20_000, facets=True, highlight=True, limit=24)


async def load(index: Any, count: int, batch: int = 5000) -> float:
    """Seconds until every document is searchable (the last batch is awaited; batches apply in order)."""
    started = time.perf_counter()
    pending: list[SearchDocument] = []
    for document in documents(count):
        if len(pending) >= batch:
            await index.upsert(pending)
            pending = []
        pending.append(document)
    await index.upsert(pending, wait=True)
    return time.perf_counter() - started


async def latencies(index: Any, queries: int) -> tuple[list[float], int]:
    for n in range(20):  # warm caches and connections
        await index.search(query_for(n))
    timings, found = [], 0
    for n in range(queries):
        started = time.perf_counter()
        result = await index.search(query_for(n))
        timings.append((time.perf_counter() - started) * 1000)
        found += result.total
    return timings, found // max(queries, 1)


def percentiles(timings: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


@contextlib.contextmanager
def pipeline(database_url: str, env_extra: dict[str, str]) -> Iterator[None]:
    """The relay and a worker, as `emporium run` starts them, against the benchmark database."""
    env = dict(os.environ, DATABASE_URL=database_url, EMPORIUM_LOG_LEVEL="WARNING",
               EMPORIUM_BROKER_NAMESPACE=f"bench-search-{uuid.uuid4().hex[:6]}", **env_extra)
    processes = [
        subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "relay"], env=env, start_new_session=True),
        subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "worker", "--processes", "1", "--threads", "2",
                          "--no-schedule"], env=env, start_new_session=True),
    ]
    try:
        time.sleep(4)  # let the worker import and connect
        yield
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


async def freshness(database_url: str, index: Any, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds from commit to searchable: price changes, then stock changes (sold out)."""
    engine = make_engine(database_url, pool_size=2)
    ids = UuidIdGenerator()
    bus = bench_bus(engine)
    tag = uuid.uuid4().hex[:8]
    sku = f"FRESH-{tag}"
    product_id = await bus.handle(c.CreateProduct(name=f"Freshness Probe {tag}", sku=sku, price_amount=1000,
                                                  currency="EUR"))
    category = await bus.handle(AddCategory(name=f"Freshness {tag}"))  # products name existing categories only
    await bus.handle(c.UpdateProduct(product_id=product_id, category_ids=[category]))
    location = f"fresh-{tag}"
    await bus.handle(inv.AddLocation(id=location, name="Freshness"))
    probe = IndexQuery(category_id=category, facets=False)

    async def until(check: Any, timeout: float = 10.0) -> float:
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            hits = (await index.search(probe)).hits
            if hits and check(hits[0]):
                return time.perf_counter() - started
            await asyncio.sleep(0.01)
        return float("inf")

    await until(lambda hit: hit.price == 1000, timeout=30)  # created and indexed
    async with PostgresUnitOfWork(engine, ids) as tx:
        price_list = await tx.price_lists.default_for("EUR")
    assert price_list is not None
    prices, stock = [], []
    for n in range(rounds):
        amount = 2000 + n
        await bus.handle(c.SetPrices(price_list_id=price_list.id, prices=[c.PriceSpec(sku=sku, amount=amount)]))
        prices.append(await until(lambda hit, a=amount: hit.price == a))
        await bus.handle(inv.ReceiveStock(sku=sku, location_id=location, quantity=1, actor="bench"))
        await until(lambda hit: hit.in_stock)
        await bus.handle(inv.AdjustStock(sku=sku, location_id=location, delta=-1, reason="bench", actor="bench"))
        stock.append(await until(lambda hit: not hit.in_stock))
    await engine.dispose()
    return prices, stock


def bench_database_url() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(normalise_url(get_settings().database_url))
    return url.set(database="emporium_bench_search").render_as_string(hide_password=False)


async def run_backend(name: str, index: Any, args: argparse.Namespace, database_url: str,
                      env_extra: dict[str, str]) -> dict[str, Any]:
    print(f"[{name}] loading {args.products:,} documents ...", flush=True)
    await index.clear()
    seconds = await load(index, args.products)
    if isinstance(index, PostgresSearchIndex):
        await index.analyze()
    print(f"[{name}] loaded in {seconds:.1f}s; timing {args.queries} queries ...", flush=True)
    timings, found = await latencies(index, args.queries)
    row: dict[str, Any] = {"load_s": seconds, "found": found, "p": percentiles(timings)}
    if args.freshness:
        with pipeline(database_url, env_extra):
            prices, stock = await freshness(database_url, index, args.freshness)
        row["fresh_price"] = (statistics.median(prices), max(prices))
        row["fresh_stock"] = (statistics.median(stock), max(stock))
    return row


async def bench(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    database_url = bench_database_url()
    ensure_database(database_url)
    upgrade(database_url)
    results: dict[str, dict[str, Any]] = {}
    backends = args.backends.split(",")
    if "postgres" in backends:
        engine = make_engine(database_url, pool_size=2)
        index = PostgresSearchIndex(engine, batch_size=2000)
        try:
            results["postgres"] = await run_backend("postgres", index, args, database_url,
                                                    {"EMPORIUM_SEARCH_BACKEND": "postgres"})
        finally:
            await engine.dispose()
    if "meilisearch" in backends:
        sys.path.insert(0, os.getcwd())
        from tests.support import meilisearch_server

        try:
            with meilisearch_server.running(indexing_threads=2, memory_mb=1536) as server:
                meili = MeilisearchSearchIndex(server.url, api_key=server.master_key, index="bench_products",
                                               batch_size=5000, timeout=60)
                try:
                    results["meilisearch"] = await run_backend("meilisearch", meili, args, database_url, {
                        "EMPORIUM_SEARCH_BACKEND": "meilisearch", "EMPORIUM_MEILISEARCH_URL": server.url,
                        "EMPORIUM_MEILISEARCH_KEY": server.master_key,
                        "EMPORIUM_MEILISEARCH_INDEX": "bench_products",
                    })
                finally:
                    await meili.close()
        except meilisearch_server.Unavailable as error:
            print(f"[meilisearch] SKIPPED: {error}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emporium bench search")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backends", default="postgres,meilisearch")
    parser.add_argument("--freshness", type=int, default=10, help="rounds of change -> searchable (0: skip)")
    args = parser.parse_args(argv)
    results = asyncio.run(bench(args))
    example = query_for(0)
    print(f"\nquery: {example.text!r} + category + colour + price range, facets, 24 hits; "
          f"{args.queries} sequential queries after 20 warm-up; {args.products:,} products")
    names = list(results)
    print(f"{'':28}" + "".join(f"{n:>16}" for n in names))

    def line(label: str, cell: Any) -> None:
        print(f"{label:28}" + "".join(f"{cell(results[n]):>16}" for n in names))

    line("load (s)", lambda r: f"{r['load_s']:.1f}")
    line("mean matches per query", lambda r: f"{r['found']}")
    for i, label in enumerate(("p50 (ms)", "p95 (ms)", "p99 (ms)")):
        line(label, lambda r, i=i: f"{r['p'][i]:.1f}")
    if args.freshness:
        line("price -> searchable (s)", lambda r: "{:.2f} / {:.2f}".format(*r["fresh_price"]))
        line("stock -> searchable (s)", lambda r: "{:.2f} / {:.2f}".format(*r["fresh_stock"]))
        print("(freshness: median / max over rounds, through outbox -> relay -> worker -> index)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
