"""Variant/option invariants and the one price-resolution function."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.catalog import commands as c
from application.catalog.errors import NestedBundle
from application.catalog.projection import rebuild_catalog
from application.catalog.queries import offers, product_by_slug, variant_weights
from application.catalog.snapshot import CatalogSnapshot
from domain.catalog.pricing import Price, PriceList, Sale, Tier, resolve_price
from domain.catalog.product import CatalogError, DuplicateSku, Option, Product, Variant
from domain.shared.errors import NotFound
from domain.shared.money import InvalidCurrency, Money
from tests.support.bus import build_bus

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SIZES = (Option(name="size", values=("S", "M", "L")), Option(name="colour", values=("red", "blue")))


def tee(*variants: Variant) -> Product:
    return Product.create(id="p1", name="Tee", now=NOW, options=SIZES, variants=variants)


def test_every_variant_picks_exactly_one_known_value_per_option() -> None:
    product = tee(Variant(sku="TEE-S-RED", option_values={"size": "S", "colour": "red"}))
    with pytest.raises(CatalogError, match="exactly one value per option"):
        product.add_variant(Variant(sku="TEE-M", option_values={"size": "M"}), now=NOW)
    with pytest.raises(CatalogError, match="not a value"):
        product.add_variant(Variant(sku="TEE-XL", option_values={"size": "XL", "colour": "red"}), now=NOW)
    with pytest.raises(CatalogError, match="already has"):
        product.add_variant(Variant(sku="TEE-S-RED-2", option_values={"size": "S", "colour": "red"}), now=NOW)
    with pytest.raises(DuplicateSku):
        product.add_variant(Variant(sku="TEE-S-RED", option_values={"size": "M", "colour": "red"}), now=NOW)
    product.add_variant(Variant(sku="TEE-M-BLUE", option_values={"size": "M", "colour": "blue"}), now=NOW)
    assert [v.sku for v in product.variants] == ["TEE-S-RED", "TEE-M-BLUE"]
    assert product.version == 2


def test_options_and_attributes_are_checked() -> None:
    with pytest.raises(CatalogError):
        Product.create(id="p", name="X", now=NOW, options=(Option(name="size", values=("S", "S")),))
    with pytest.raises(CatalogError):
        Product.create(id="p", name="X", now=NOW, attributes={"Bad Name": 1})
    product = Product.create(id="p", name="X", now=NOW, attributes={"material": "cotton", "tags": ("a", "b")})
    assert product.attributes["tags"] == ("a", "b")


def price_lists() -> list[PriceList]:
    eur = PriceList(id="eur", name="EUR", currency="EUR")
    eur.set_prices(
        [Price(sku="TEE", amount=2000, tiers=(Tier(min_quantity=3, amount=1800), Tier(min_quantity=10, amount=1500)),
               sale=Sale(amount=1600, starts_at=NOW, ends_at=NOW + timedelta(days=2)))],
        now=NOW,
    )
    app_eur = PriceList(id="app-eur", name="App EUR", currency="EUR", channel="app")
    app_eur.set_prices([Price(sku="TEE", amount=1900)], now=NOW)
    usd = PriceList(id="usd", name="USD", currency="USD")
    usd.set_prices([Price(sku="TEE", amount=2200)], now=NOW)
    return [eur, app_eur, usd]


@pytest.mark.parametrize(
    ("channel", "currency", "quantity", "at", "expected"),
    [
        ("web", "EUR", 1, NOW - timedelta(days=1), Money(2000, "EUR")),  # no web list: the generic one
        ("web", "EUR", 3, NOW - timedelta(days=1), Money(1800, "EUR")),  # tier reached
        ("web", "EUR", 12, NOW - timedelta(days=1), Money(1500, "EUR")),  # best tier reached
        ("web", "EUR", 1, NOW + timedelta(hours=1), Money(1600, "EUR")),  # sale running
        ("web", "EUR", 12, NOW + timedelta(hours=1), Money(1500, "EUR")),  # tier beats sale
        ("web", "EUR", 1, NOW + timedelta(days=2), Money(2000, "EUR")),  # sale ended (end exclusive)
        ("app", "EUR", 1, NOW + timedelta(hours=1), Money(1900, "EUR")),  # the channel's own list wins
        (None, "USD", 5, NOW, Money(2200, "USD")),
        ("web", "GBP", 1, NOW, None),  # no conversion, ever
    ],
)
def test_price_resolution(channel, currency, quantity, at, expected) -> None:
    assert resolve_price(price_lists(), sku="TEE", currency=currency, channel=channel, quantity=quantity,
                         at=at) == expected


def test_price_lists_refuse_bad_prices() -> None:
    with pytest.raises(InvalidCurrency):
        PriceList(id="x", name="x", currency="EURO")
    eur = PriceList(id="eur", name="EUR", currency="EUR")
    for bad in (Price(sku="A", amount=-1), Price(sku="A", amount=1, tiers=(Tier(min_quantity=1, amount=1),)),
                Price(sku="A", amount=1, sale=Sale(amount=1, starts_at=NOW, ends_at=NOW))):
        with pytest.raises(CatalogError):
            eur.set_prices([bad], now=NOW)
    assert eur.prices == {}


@pytest.fixture
def world():
    db = MemoryDatabase()
    ids = SequentialIds()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    return uow, build_bus(uow=uow, clock=FakeClock(NOW), ids=ids)


async def test_a_full_product_with_variants_prices_and_a_bundle(world) -> None:
    uow, bus = world
    product_id = await bus.handle(c.CreateProduct(
        name="Trail Kit", options=[("size", ["40", "41"])],
        variants=[c.VariantSpec(sku="SHOE-40", option_values={"size": "40"}),
                  c.VariantSpec(sku="SHOE-41", option_values={"size": "41"})],
        attributes={"brand": "Emporium", "waterproof": True},
    ))
    socks = await bus.handle(c.CreateProduct(name="Socks", sku="SOCK", price_amount=500, currency="EUR"))
    with pytest.raises(CatalogError, match="components do not exist"):
        await bus.handle(c.CreateProduct(name="Bad bundle", variants=[
            c.VariantSpec(sku="BUNDLE-X", components=[("GHOST", 1)])]))
    bundle = await bus.handle(c.CreateProduct(name="Bundle", variants=[
        c.VariantSpec(sku="KIT", components=[("SHOE-40", 1), ("SOCK", 2)])], status="active"))
    with pytest.raises(NestedBundle, match=r"^a bundle cannot hold another bundle: KIT$"):
        await bus.handle(c.AddVariant(product_id=socks, variant=c.VariantSpec(sku="KITS", components=[("KIT", 2)])))
    await bus.handle(c.UpdateVariant(product_id=product_id, sku="SHOE-40", weight_grams=800))
    await bus.handle(c.UpdateVariant(product_id=socks, sku="SOCK", weight_grams=50))
    assert await variant_weights(["KIT", "SOCK", "GHOST"], catalog=CatalogSnapshot(uow)) == {"KIT": 900, "SOCK": 50}
    async with uow() as tx:
        [eur] = await tx.price_lists.for_skus(["SHOE-40", "SHOE-41"])  # every list there is
    await bus.handle(c.SetPrices(price_list_id=eur.id, prices=[
        c.PriceSpec(sku="SHOE-40", amount=9900), c.PriceSpec(sku="SHOE-41", amount=9900, tiers=[(2, 9000)])]))
    with pytest.raises(NotFound):
        await bus.handle(c.SetPrices(price_list_id=eur.id, prices=[c.PriceSpec(sku="NOPE", amount=1)]))

    assert await product_by_slug("trail-kit", uow=uow) is None  # a draft is not in the store
    await bus.handle(c.UpdateProduct(product_id=product_id, status="active"))
    assert await rebuild_catalog(uow=uow) == 3
    document = await product_by_slug("trail-kit", uow=uow)
    assert document is not None
    assert [v.sku for v in document.variants] == ["SHOE-40", "SHOE-41"]
    assert [(p.amount, p.currency) for p in document.price_from] == [(9900, "EUR")]
    assert document.attributes == {"brand": "Emporium", "waterproof": True}

    found = await offers(["SHOE-41", "KIT", "SOCK"], currency="EUR", channel="web", at=NOW,
                         catalog=CatalogSnapshot(uow), quantities={"SHOE-41": 2})
    assert found["SHOE-41"].unit_price is not None
    assert found["SHOE-41"].unit_price.amount == 9000
    assert (found["KIT"].purchasable, found["KIT"].reason) == (False, "no price in EUR")
    assert found["SOCK"].purchasable
    async with uow() as tx:
        assert {socks, bundle} <= set(await tx.products.all_ids())


async def test_updates_are_optimistic(world) -> None:
    from domain.shared.errors import ConcurrencyConflict

    _, bus = world
    product_id = await bus.handle(c.CreateProduct(name="Cap", sku="CAP", price_amount=100, currency="EUR"))
    version = await bus.handle(c.UpdateProduct(product_id=product_id, name="Cap 2"))
    with pytest.raises(ConcurrencyConflict):
        await bus.handle(c.UpdateProduct(product_id=product_id, name="Cap 3", expected_version=version - 1))


def test_a_new_option_value_can_be_offered_later() -> None:
    product = tee(Variant(sku="TEE-S-RED", option_values={"size": "S", "colour": "red"}))
    product.add_option_value("size", "XL", now=NOW)
    product.add_variant(Variant(sku="TEE-XL-RED", option_values={"size": "XL", "colour": "red"}), now=NOW)
    with pytest.raises(CatalogError):
        product.add_option_value("size", "XL", now=NOW)
    with pytest.raises(CatalogError):
        product.add_option_value("fit", "slim", now=NOW)
    assert product.options[0].values == ("S", "M", "L", "XL")
