"""Category and listing pages: filters, sorts and keyset cursors, the same on the fake and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from adapters.memory.clock import FakeClock
from application.catalog import commands as c
from application.catalog.errors import BadCursor
from application.catalog.projection import project_product
from application.catalog.queries import list_products
from application.catalog.read_models import ProductQuery
from domain.shared.errors import InvalidInput
from tests.support.bus import build_bus
from tests.support.categories import add_categories


@pytest.fixture
async def shelf(harness, unique):
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    await add_categories(harness.uow(), f"shoes-{unique}", f"socks-{unique}")
    ids = []
    for n, (colour, waterproof) in enumerate([("red", True), ("blue", False), ("red", False), ("blue", True),
                                              ("red", True)]):
        product_id = await bus.handle(c.CreateProduct(
            name=f"Item {n} {unique}", sku=f"L{n}-{unique}", price_amount=500 * (n + 1), currency="EUR",
        ))
        await bus.handle(c.UpdateProduct(
            product_id=product_id, attributes={"batch": unique, "colour": colour, "waterproof": waterproof,
                                               "tags": ("sale",) if n % 2 else ()},
            category_ids=[f"shoes-{unique}"] if n < 3 else [f"socks-{unique}"],
        ))
        ids.append(product_id)
    draft = await bus.handle(c.CreateProduct(name=f"Draft {unique}", status="draft",
                                             variants=[c.VariantSpec(sku=f"LD-{unique}")]))
    await bus.handle(c.UpdateProduct(product_id=draft, attributes={"batch": unique}))
    for product_id in [*ids, draft]:
        async with harness.uow()() as tx:
            await project_product(product_id, tx)
            await tx.commit()
    return ids


async def page(harness, **filters) -> tuple[list[int], str | None]:
    result = await list_products(ProductQuery(**filters), uow=harness.uow())
    return [p.price_from[0].amount for p in result.items], result.next_cursor


async def test_price_sort_pages_through_every_active_product_once(harness, shelf, unique) -> None:
    base = {"attributes": {"batch": unique}, "sort": "price_asc", "limit": 2}
    first, cursor = await page(harness, **base)
    second, cursor2 = await page(harness, **base, cursor=cursor)
    third, cursor3 = await page(harness, **base, cursor=cursor2)
    assert (first, second, third, cursor3) == ([500, 1000], [1500, 2000], [2500], None)
    descending, _ = await page(harness, attributes={"batch": unique}, sort="price_desc", limit=10)
    assert descending == [2500, 2000, 1500, 1000, 500]  # the draft never shows


async def test_filters_by_attribute_category_and_price(harness, shelf, unique) -> None:
    batch = {"batch": unique}
    assert (await page(harness, attributes={**batch, "colour": "red"}, sort="price_asc"))[0] == [500, 1500, 2500]
    assert (await page(harness, attributes={**batch, "waterproof": "true"}, sort="price_asc"))[0] == [500, 2000, 2500]
    assert (await page(harness, attributes={**batch, "tags": "sale"}, sort="price_asc"))[0] == [1000, 2000]
    assert (await page(harness, attributes=batch, category_id=f"socks-{unique}", sort="price_asc"))[0] == [2000, 2500]
    assert (await page(harness, attributes=batch, min_price=1000, max_price=2000, sort="price_asc"))[0] == [
        1000, 1500, 2000,
    ]
    assert (await page(harness, attributes=batch, currency="USD", min_price=1))[0] == []  # no conversion
    newest, _ = await page(harness, attributes=batch, sort="newest")
    assert newest == [2500, 2000, 1500, 1000, 500]


async def _project(harness, *product_ids: str) -> None:
    for product_id in product_ids:
        async with harness.uow()() as tx:
            await project_product(product_id, tx)
            await tx.commit()


async def names(harness, **filters) -> list[str]:
    result = await list_products(ProductQuery(**filters), uow=harness.uow())
    return [p.name for p in result.items]


async def test_a_product_unpriced_in_the_currency_sorts_as_zero_even_once_the_currency_arrives(harness, unique) -> None:
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    listed = []
    for name, amount, currency in (("Plain", 700, "EUR"), ("Krona", 900, "ISK")):  # ISK: new to the shop
        product_id = await bus.handle(c.CreateProduct(name=f"{name} {unique}", sku=f"{name}-{unique}",
                                                      price_amount=amount, currency=currency))
        await bus.handle(c.UpdateProduct(product_id=product_id, attributes={"batch": unique}))
        await _project(harness, product_id)  # the first is listed before any product is priced in ISK
        listed.append(product_id)
    batch = {"attributes": {"batch": unique}, "currency": "ISK"}
    assert await names(harness, **batch, sort="price_asc") == [f"Plain {unique}", f"Krona {unique}"]
    assert await names(harness, **batch, sort="price_desc") == [f"Krona {unique}", f"Plain {unique}"]
    assert await names(harness, **batch, sort="price_asc", min_price=1) == [f"Krona {unique}"]
    assert await names(harness, **batch, sort="name") == [f"Krona {unique}", f"Plain {unique}"]
    unknown = {"attributes": {"batch": unique}, "currency": "KWD"}  # no product is priced in it
    assert await names(harness, **unknown, sort="newest") == [f"Krona {unique}", f"Plain {unique}"]
    assert await names(harness, **unknown, sort="price_asc") == [f"Plain {unique}", f"Krona {unique}"]


async def test_products_projected_together_while_a_currency_arrives_are_all_listed_in_it(harness, unique) -> None:
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    await add_categories(harness.uow(), f"together-{unique}")
    products = []
    for n, currency in enumerate(["EUR"] * 6 + ["MXN"] * 2):  # MXN: new to the shop
        product_id = await bus.handle(c.CreateProduct(name=f"Together {n} {unique}", sku=f"T{n}-{unique}",
                                                      price_amount=100 * (n + 1), currency=currency))
        await bus.handle(c.UpdateProduct(product_id=product_id, attributes={"batch": unique},
                                         category_ids=[f"together-{unique}"]))
        products.append(product_id)

    async def project(product_id: str) -> None:
        async with harness.uow()() as tx:
            await project_product(product_id, tx)
            await tx.commit()

    if harness.name == "postgres":
        await asyncio.gather(*(project(p) for p in products))
    else:  # the fake takes one unit of work at a time
        await _project(harness, *products)
    for category in (None, f"together-{unique}"):
        shown = await names(harness, attributes={"batch": unique}, currency="MXN", sort="price_asc",
                            category_id=category)
        assert shown == [f"Together {n} {unique}" for n in range(8)]


async def test_a_category_page_follows_the_product_as_it_moves_or_leaves_the_shelf(harness, shelf, unique) -> None:
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    moved, hidden = shelf[0], shelf[1]
    await bus.handle(c.UpdateProduct(product_id=moved, category_ids=[f"socks-{unique}"]))
    await bus.handle(c.UpdateProduct(product_id=hidden, status="archived"))
    await _project(harness, moved, hidden)
    batch = {"attributes": {"batch": unique}, "sort": "price_asc"}
    assert (await page(harness, **batch, category_id=f"shoes-{unique}"))[0] == [1500]
    assert (await page(harness, **batch, category_id=f"socks-{unique}"))[0] == [500, 2000, 2500]
    assert (await page(harness, **batch))[0] == [500, 1500, 2000, 2500]
    by_name = {"attributes": {"batch": unique}, "category_id": f"socks-{unique}", "sort": "name", "limit": 2}
    first, cursor = await page(harness, **by_name)
    assert (first, (await page(harness, **by_name, cursor=cursor))[0]) == ([500, 2000], [2500])


async def test_bad_queries_are_refused(harness) -> None:
    with pytest.raises(BadCursor):
        await list_products(ProductQuery(cursor="not-a-cursor"), uow=harness.uow())
    with pytest.raises(InvalidInput):
        await list_products(ProductQuery(min_price=10, max_price=5), uow=harness.uow())
    with pytest.raises(InvalidInput):
        await list_products(ProductQuery(sort="random"), uow=harness.uow())


@pytest.fixture(scope="module")
def client(database_url, redis_url):
    from tests.support.http_app import client_for, settings_for

    with client_for(settings_for(database_url, redis_url)) as c:
        yield c


@pytest.mark.parametrize(
    ("query", "status"),
    [("colour=red", 400), ("min_price=-1", 400), ("sort=random", 400), ("limit=1000", 400),
     ("cursor=garbage", 422), ("min_price=9&max_price=1", 422), ("currency=euro", 400)],
)
def test_bad_listing_parameters_are_problems_not_500s(client, query, status) -> None:
    response = client.get(f"/store/products?{query}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_listing_page_is_edge_cacheable_and_an_empty_page_is_fine(client, unique) -> None:
    response = client.get(f"/store/products?attr.batch=none-{unique}&sort=name")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}
    assert response.headers["surrogate-key"] == "products"  # the whole catalog's listings (no product on it)
    assert response.headers["cache-control"].startswith("public")
