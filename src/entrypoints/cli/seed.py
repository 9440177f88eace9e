"""Demo data: a handful of products, plus N generated ones on request. Safe to run twice.

Generated products go through the domain (every invariant checked) but are written in batches:
one transaction per 500 products, prices upserted per batch, documents rebuilt page by page.
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

from application.catalog.categories import AddCategory
from application.catalog.commands import CreateProduct
from application.catalog.projection import rebuild_catalog
from application.search.indexer import reindex
from domain.catalog.pricing import Price, PriceList
from domain.catalog.product import Option, Product, ProductStatus, Variant
from domain.shared.errors import Conflict
from entrypoints.container import Container, close

DEMO_PRODUCTS = [
    ("Trail Runner", "TRAIL-RUNNER", 12900, "EUR"),
    ("Road Racer", "ROAD-RACER", 14900, "EUR"),
    ("Merino Socks", "MERINO-SOCKS", 1900, "EUR"),
    ("Rain Shell", "RAIN-SHELL", 18900, "EUR"),
]
CATEGORIES = {"Shoes": ["Running", "Trail", "Hiking"], "Apparel": ["Tees", "Jackets"], "Accessories": ["Socks", "Caps"]}
NOUNS = {"Running": "Runner", "Trail": "Trail Shoe", "Hiking": "Boot", "Tees": "Tee", "Jackets": "Jacket",
         "Socks": "Socks", "Caps": "Cap"}
ADJECTIVES = ["Swift", "Alpine", "Urban", "Storm", "Breeze", "Summit", "Coastal", "Midnight", "Ember", "Glacier"]
BRANDS = ["Emporium", "Northwind", "Fjell", "Kestrel", "Tidewater"]
COLOURS = ["black", "white", "red", "blue", "green", "grey"]
SIZES = {"Shoes": ["40", "41", "42", "43", "44"], "Apparel": ["S", "M", "L", "XL"], "Accessories": ["one-size"]}
RATES = {"EUR": (1, 1), "USD": (11, 10), "GBP": (86, 100)}  # a merchant's own price points, not FX
BATCH = 500


def progress_bar(label: str) -> Any:
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        rate = done / max(time.monotonic() - started, 1e-6)
        sys.stdout.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({rate:.0f}/s)")
        if done >= total:
            sys.stdout.write("\n")
        sys.stdout.flush()

    return show


async def _categories(container: Container) -> list[tuple[str, str, str]]:
    """(leaf id, leaf name, top name) — created once, found again on later runs."""
    from application.catalog.categories import category_tree

    uow = container.uow_factory()
    existing = {n.name: n for n in await category_tree(uow=uow)}
    leaves: list[tuple[str, str, str]] = []
    if not existing:
        async with uow() as tx:
            tree = await tx.categories.tree()
        if tree.nodes:  # created earlier, projection not run yet
            by_name = {c.name: c for c in tree.nodes.values()}
            return [(by_name[leaf].id, leaf, top) for top, subs in CATEGORIES.items() for leaf in subs]
        bus = container.bus()
        for top, subs in CATEGORIES.items():
            top_id = await bus.handle(AddCategory(name=top))
            for leaf in subs:
                leaf_id = await bus.handle(AddCategory(name=leaf, parent_id=top_id))
                leaves.append((leaf_id, leaf, top))
        return leaves
    for top, subs in CATEGORIES.items():
        children = {c.name: c for c in existing[top].children} if top in existing else {}
        leaves.extend((children[leaf].id, leaf, top) for leaf in subs if leaf in children)
    return leaves


def _product(
    n: int, rng: random.Random, leaves: list[tuple[str, str, str]], now: Any
) -> tuple[Product, dict[str, int]]:
    leaf_id, leaf, top = leaves[n % len(leaves)]
    name = f"{rng.choice(ADJECTIVES)} {NOUNS[leaf]} {n}"
    colours = rng.sample(COLOURS, 2)
    sizes = SIZES[top][: rng.randint(1, len(SIZES[top]))]
    options = (Option(name="colour", values=tuple(colours)), Option(name="size", values=tuple(sizes)))
    variants = tuple(
        Variant(sku=f"GEN{n:07d}-{c.upper()}-{s.upper()}", option_values={"colour": c, "size": s},
                weight_grams=rng.randint(80, 1500))
        for c in colours for s in sizes
    )
    product = Product.create(
        id=f"gen-{n:07d}", name=name, now=now, status=ProductStatus.ACTIVE, options=options, variants=variants,
        attributes={"brand": rng.choice(BRANDS), "waterproof": rng.random() < 0.3,
                    "material": rng.choice(["cotton", "merino", "nylon", "leather", "polyester"])},
        category_ids=(leaf_id,),
    )
    base = rng.randrange(900, 25000, 100)
    return product, {v.sku: base for v in variants}


async def seed_demo(*, products: int = 0) -> None:
    container = Container()
    bus = container.bus()
    created = 0
    try:
        for name, sku, price, currency in DEMO_PRODUCTS:
            try:
                await bus.handle(CreateProduct(name=name, sku=sku, price_amount=price, currency=currency))
                created += 1
            except Conflict:
                pass  # already seeded
        await _demo_stock(container)
        if products:
            created += await _generate(container, products)
        await rebuild_catalog(uow=container.uow_factory(), progress=progress_bar("documents") if products else None)
        # The rebuild announces no changes (so the indexer hears nothing): fill the search index here.
        await reindex(uow=container.uow_factory(), index=container.search_index(), clear=False,
                      language=container.settings().search_language,
                      progress=progress_bar("search documents") if products else None)
    finally:
        await close(container)
    print(f"seeded {created} products")


async def _demo_stock(container: Container) -> None:
    """Stock for the demo products in a main warehouse, once."""
    from application.inventory.commands import AddLocation, ReceiveStock
    from application.inventory.queries import stock_levels

    bus = container.bus()
    await bus.handle(AddLocation(id="main", name="Main warehouse", priority=1))
    for _, sku, _, _ in DEMO_PRODUCTS:
        levels, _ = await stock_levels(sku, uow=container.uow_factory())
        if not levels:
            await bus.handle(ReceiveStock(sku=sku, location_id="main", quantity=100, actor="seed", reference="demo"))


async def _generate(container: Container, count: int) -> int:
    uow = container.uow_factory()
    clock = container.clock()
    leaves = await _categories(container)
    rng = random.Random(42)
    show = progress_bar("products ")
    created = 0
    for start in range(0, count, BATCH):
        batch = [_product(n, rng, leaves, clock.now()) for n in range(start, min(start + BATCH, count))]
        async with uow() as tx:
            done = {p.id for p in await tx.products.get_many([p.id for p, _ in batch])}
        fresh = [(p, prices) for p, prices in batch if p.id not in done]
        if fresh:
            async with uow() as tx:
                await tx.products.add_many([product for product, _ in fresh])
                for currency, (numerator, denominator) in RATES.items():
                    price_list = await tx.price_lists.default_for(currency)
                    if price_list is None:
                        price_list = PriceList(id=f"default-{currency.lower()}", name=f"Default {currency}",
                                               currency=currency)
                        await tx.price_lists.add(price_list)
                    price_list.set_prices(
                        [Price(sku=sku, amount=amount * numerator // denominator // 100 * 100 + 99)
                         for _, prices in fresh for sku, amount in prices.items()],
                        now=clock.now(),
                    )
                    await tx.price_lists.save(price_list)
                await tx.commit()
            created += len(fresh)
        show(min(start + BATCH, count), count)
    return created
