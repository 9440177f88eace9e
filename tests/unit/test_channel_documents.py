"""Product documents priced for a sales channel: what the page shows is what that channel's cart charges."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.carts import commands as cc
from application.catalog import commands as c
from application.catalog.projection import rebuild_catalog
from application.catalog.queries import product_for_channel
from domain.carts.cart import Owner
from domain.catalog.product import CatalogError
from domain.shared.errors import DomainError
from tests.support.unit import Shop, build_shop, stock

CHANNELS = {"web": "EUR", "us": "USD"}  # build_shop's
SKUS = ("TEE-S", "TEE-M")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)  # build_shop's clock


async def tee_shop() -> Shop:
    shop = build_shop()
    await shop.bus.handle(c.CreateProduct(
        name="Tee", slug="tee", status="active", options=[("size", ["S", "M"])],
        variants=[c.VariantSpec(sku="TEE-S", option_values={"size": "S"}),
                  c.VariantSpec(sku="TEE-M", option_values={"size": "M"})]))
    for sku in SKUS:
        await stock(shop.bus, sku, 1000)
    return shop


async def set_lists(shop: Shop, prices: dict[tuple[str, str | None], dict[str, c.PriceSpec]]) -> None:
    """Lists by (currency, channel), each with its prices; then the documents built."""
    for (currency, channel), specs in prices.items():
        list_id = await shop.bus.handle(c.CreatePriceList(name=f"{currency} {channel}", currency=currency,
                                                          channel=channel))
        if specs:
            await shop.bus.handle(c.SetPrices(price_list_id=list_id, prices=list(specs.values())))
    await rebuild_catalog(uow=shop.uow)


def page_unit_price(variant, quantity: int) -> int | None:
    """What the page says one unit costs at ``quantity``: the last tier at or below it, else the price."""
    if variant.price is None:
        return None
    reached = [t.amount for t in variant.tiers if t.min_quantity <= quantity]
    return reached[-1] if reached else variant.price.amount


async def test_a_channel_sees_its_own_list_first_then_the_all_channels_list_in_its_currency() -> None:
    shop = await tee_shop()
    now = shop.clock.now()
    await set_lists(shop, {
        ("EUR", None): {"TEE-S": c.PriceSpec(sku="TEE-S", amount=2000), "TEE-M": c.PriceSpec(sku="TEE-M", amount=2100)},
        ("USD", None): {"TEE-S": c.PriceSpec(sku="TEE-S", amount=2500), "TEE-M": c.PriceSpec(sku="TEE-M", amount=2600)},
        ("USD", "us"): {"TEE-S": c.PriceSpec(
            sku="TEE-S", amount=2400, tiers=[(3, 2200), (5, 2300), (10, 1900)], sale_amount=2300,
            sale_starts_at=now - timedelta(hours=1), sale_ends_at=now + timedelta(hours=2))},
    })
    web = await product_for_channel("tee", uow=shop.uow, channel="web", currency="EUR", at=now)
    assert web is not None
    assert [(v.price.amount, v.price.currency) for v in web.document.variants if v.price] == [(2000, "EUR"),
                                                                                              (2100, "EUR")]
    assert (web.document.price_from[0].amount, web.changes_at) == (2000, None)
    us = await product_for_channel("tee", uow=shop.uow, channel="us", currency="USD", at=now)
    assert us is not None
    small, medium = us.document.variants
    assert (small.price.amount, small.regular_price.amount, small.sale.amount) == (2300, 2400, 2300)
    assert small.sale.ends_at == now + timedelta(hours=2)
    # The tiers as the cart applies them: 3 units at 2200, 5 at 2200 still (the lower tier wins), 10 at 1900.
    assert [(t.min_quantity, t.amount) for t in small.tiers] == [(3, 2200), (10, 1900)]
    assert (medium.price.amount, medium.sale, medium.tiers) == (2600, None, [])  # the all-channels USD list
    assert [p.amount for p in us.document.price_from] == [2300]  # the running sale
    assert us.changes_at == now + timedelta(hours=2)
    assert {p.currency for v in us.document.variants for p in v.prices} == {"USD"}


async def test_an_ended_sale_is_not_shown_and_an_upcoming_one_bounds_the_answers_life() -> None:
    shop = await tee_shop()
    now = shop.clock.now()
    starts, ends = now + timedelta(hours=1), now + timedelta(hours=3)
    await set_lists(shop, {("EUR", None): {"TEE-S": c.PriceSpec(
        sku="TEE-S", amount=2000, sale_amount=1500, sale_starts_at=starts, sale_ends_at=ends)}})

    async def seen(at):
        priced = await product_for_channel("tee", uow=shop.uow, channel="web", currency="EUR", at=at)
        assert priced is not None
        small = priced.document.variants[0]
        return small.price.amount, small.sale is not None, priced.document.price_from[0].amount, priced.changes_at

    assert await seen(now) == (2000, False, 2000, starts)
    assert await seen(starts) == (1500, True, 1500, ends)
    assert await seen(ends) == (2000, False, 2000, None)


base_amounts = st.integers(min_value=0, max_value=50_000)


@st.composite
def price_specs(draw: st.DrawFn, sku: str) -> c.PriceSpec:
    amount = draw(base_amounts)
    minimums = draw(st.lists(st.integers(min_value=2, max_value=12), unique=True, max_size=3))
    tiers = [(m, draw(st.integers(min_value=0, max_value=amount))) for m in minimums]
    sale = draw(st.none() | st.tuples(st.integers(min_value=0, max_value=amount),
                                      st.integers(min_value=-4, max_value=3), st.integers(min_value=1, max_value=4)))
    if sale is None:
        return c.PriceSpec(sku=sku, amount=amount, tiers=tiers)
    starts = NOW + timedelta(hours=sale[1])
    return c.PriceSpec(sku=sku, amount=amount, tiers=tiers, sale_amount=sale[0], sale_starts_at=starts,
                       sale_ends_at=starts + timedelta(hours=sale[2]))


LIST_KEYS = [("EUR", None), ("USD", None), ("EUR", "web"), ("USD", "us")]
catalogs = st.fixed_dictionaries({
    key: st.fixed_dictionaries({}, optional={sku: price_specs(sku) for sku in SKUS}) for key in LIST_KEYS
})
carts = st.dictionaries(st.sampled_from(SKUS), st.integers(min_value=1, max_value=15), min_size=1)


@settings(max_examples=60)
@given(catalogs, st.sampled_from(sorted(CHANNELS)), carts)
def test_the_page_price_times_the_quantity_is_what_the_cart_line_charges_before_promotions(
    prices: dict[tuple[str, str | None], dict[str, c.PriceSpec]], channel: str, lines: dict[str, int],
) -> None:
    async def run() -> None:
        shop = await tee_shop()
        await set_lists(shop, prices)
        currency = CHANNELS[channel]
        priced = await product_for_channel("tee", uow=shop.uow, channel=channel, currency=currency,
                                           at=shop.clock.now())
        assert priced is not None
        variants = {v.sku: v for v in priced.document.variants}
        owner = Owner.guest(f"g-{channel}")
        expected = {}
        for sku, quantity in lines.items():
            on_page = page_unit_price(variants[sku], quantity)
            try:
                await shop.bus.handle(cc.AddCartLine(owner=owner, sku=sku, quantity=quantity, channel=channel))
            except DomainError:
                assert on_page is None  # no price in the channel: not for sale, and the page shows none
                continue
            assert on_page is not None
            expected[sku] = on_page * quantity
        cart = await shop.bus.handle(cc.ViewCart(owner=owner, channel=channel))
        assert cart.currency == currency
        assert {line.sku: line.unit_price * line.quantity for line in cart.lines if line.unit_price is not None} \
            == expected
        lowest = min((v.price.amount for v in variants.values() if v.price), default=None)
        assert [p.amount for p in priced.document.price_from] == ([] if lowest is None else [lowest])

    asyncio.run(run())


async def test_a_price_edit_keeps_what_it_does_not_name() -> None:
    shop = await tee_shop()
    now = shop.clock.now()
    list_id = await shop.bus.handle(c.CreatePriceList(name="EUR", currency="EUR"))
    await shop.bus.handle(c.SetPrices(price_list_id=list_id, prices=[c.PriceSpec(
        sku="TEE-S", amount=2000, tiers=[(3, 1800)], sale_amount=1500, sale_starts_at=now,
        sale_ends_at=now + timedelta(days=1))]))
    await shop.bus.handle(c.EditPrices(price_list_id=list_id, changes=[c.PriceChange(sku="TEE-S", amount=2100)]))

    async def price() -> tuple:
        async with shop.uow() as tx:
            p = (await tx.price_lists.get(list_id, skus=["TEE-S"])).prices["TEE-S"]
        return p.amount, [(t.min_quantity, t.amount) for t in p.tiers], p.sale and p.sale.amount

    assert await price() == (2100, [(3, 1800)], 1500)
    await shop.bus.handle(c.EditPrices(price_list_id=list_id, changes=[c.PriceChange(sku="TEE-S", sale=None)]))
    assert await price() == (2100, [(3, 1800)], None)
    with pytest.raises(CatalogError, match="a tier cannot cost more than the base price"):
        await shop.bus.handle(c.EditPrices(price_list_id=list_id, changes=[c.PriceChange(sku="TEE-S", amount=1700)]))
    assert await price() == (2100, [(3, 1800)], None)


async def test_a_document_stored_before_prices_were_is_served_as_it_was_until_rebuilt() -> None:
    shop = await tee_shop()
    await set_lists(shop, {("EUR", None): {"TEE-S": c.PriceSpec(sku="TEE-S", amount=2000)}})
    async with shop.uow() as tx:
        built = await tx.catalog_view.product_by_slug("tee")
        await tx.catalog_view.upsert_many([msgspec.structs.replace(built, pricing=None)])
        await tx.commit()
    old = await product_for_channel("tee", uow=shop.uow, channel="us", currency="USD", at=NOW)
    assert old is not None
    assert ([p.amount for p in old.document.price_from], old.document.channel, old.changes_at) == ([2000], None, None)
    await rebuild_catalog(uow=shop.uow)
    rebuilt = await product_for_channel("tee", uow=shop.uow, channel="us", currency="USD", at=NOW)
    assert rebuilt is not None
    assert (rebuilt.document.price_from, rebuilt.document.channel) == ([], "us")
