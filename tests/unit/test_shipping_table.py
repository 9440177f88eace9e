"""The shipping table staff keep, through the bus over the in-memory store: each change is checked whole
and changes nothing when refused, checkout reads the table kept per catalog version (a change bumps it),
and the address step refuses a destination no method in the cart's currency reaches."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.memory.catalog_version import MemoryCatalogVersion
from adapters.memory.shipping import MemoryShippingStore
from application.carts import commands as cart
from application.catalog.commands import CreateProduct
from application.checkout import commands as co
from application.shipping import commands as sh
from domain.shared.address import Address
from domain.shipping.rates import Method, NoShippingMethod, RateKind, Zone
from domain.shipping.validation import InvalidShipping, ShippingZoneInUse
from tests.support.unit import BERLIN, GUEST, build_shop, stock

ZURICH = Address(name="Ada", line1="Bahnhofstrasse 1", city="Zürich", postal_code="8001", country="CH")
SWISS = Zone(id="ch", name="Switzerland", countries=frozenset({"CH"}))
POST = Method(id="ch-post", name="Post", zone_id="ch", currency="EUR", kind=RateKind.FLAT, amount=1500)


async def _table(bus) -> tuple[list[Zone], list[Method]]:
    return await bus.handle(sh.ListShippingZones()), await bus.handle(sh.ListShippingMethods())


async def _checkout_to(bus, address: Address, *, sku: str = "LAMP-1", channel: str | None = None) -> str:
    await bus.handle(cart.AddCartLine(owner=GUEST, sku=sku, quantity=1, channel=channel))
    view = await bus.handle(co.StartCheckout(owner=GUEST))
    await bus.handle(co.SetAddress(owner=GUEST, checkout_id=view.id, shipping=address))
    return view.id


@pytest.fixture
async def shop():
    version = MemoryCatalogVersion()
    shop = build_shop(shipping_store=MemoryShippingStore(), catalog_version=version)
    for sku, currency in (("LAMP-1", "EUR"), ("LAMP-US", "USD")):
        await shop.bus.handle(CreateProduct(name=sku, sku=sku, price_amount=5000, currency=currency,
                                            status="active"))
        await stock(shop.bus, sku, 10)
    await shop.bus.handle(sh.CreateShippingZone(zone=SWISS))
    await shop.bus.handle(sh.CreateShippingMethod(method=POST))
    return shop


async def test_a_rate_changed_through_the_bus_is_what_the_next_checkout_is_offered(shop) -> None:
    checkout_id = await _checkout_to(shop.bus, ZURICH)
    options = await shop.bus.handle(co.ShippingOptions(owner=GUEST, checkout_id=checkout_id))
    assert [(o.id, o.amount) for o in options] == [("ch-post", 1500)]
    await shop.bus.handle(sh.UpdateShippingMethod(method=replace(POST, amount=900, free_over=5000)))
    options = await shop.bus.handle(co.ShippingOptions(owner=GUEST, checkout_id=checkout_id))
    assert [(o.id, o.amount) for o in options] == [("ch-post", 0)]  # €50.00 of goods: free from €50.00


async def test_checkout_keeps_the_table_until_the_catalog_version_moves() -> None:
    store, version = MemoryShippingStore(), MemoryCatalogVersion()
    shop = build_shop(shipping_store=store, catalog_version=version)
    await shop.bus.handle(CreateProduct(name="Lamp", sku="LAMP-1", price_amount=4000, currency="EUR",
                                        status="active"))
    await stock(shop.bus, "LAMP-1", 10)
    checkout_id = await _checkout_to(shop.bus, BERLIN)  # €40.00: standard shipping is paid
    asked = co.ShippingOptions(owner=GUEST, checkout_id=checkout_id)
    assert [o.amount for o in await shop.bus.handle(asked)] == [490, 990]
    await store.replace_method(Method(id="eu-standard", name="Standard", zone_id="eu", currency="EUR",
                                      kind=RateKind.FLAT, amount=100))  # behind checkout's back: no bump
    assert [o.amount for o in await shop.bus.handle(asked)] == [490, 990]
    await version.bump()  # what any commit of a catalog change does, here or in another process
    assert [o.amount for o in await shop.bus.handle(asked)] == [100, 990]


async def test_a_currency_no_method_takes_to_the_address_is_refused_at_the_address_step(shop) -> None:
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="LAMP-US", quantity=1, channel="us"))
    view = await shop.bus.handle(co.StartCheckout(owner=GUEST))
    with pytest.raises(NoShippingMethod, match=r"^we do not ship to CH in USD: no shipping method there is priced "
                                               r"in USD$") as refused:
        await shop.bus.handle(co.SetAddress(owner=GUEST, checkout_id=view.id, shipping=ZURICH))
    assert (refused.value.country, refused.value.region, refused.value.currency) == ("CH", None, "USD")
    assert (await shop.bus.handle(co.GetCheckout(owner=GUEST, checkout_id=view.id))).shipping_address is None


async def test_a_method_offered_in_part_of_its_zone_is_offered_there_only(shop) -> None:
    await shop.bus.handle(sh.UpdateShippingZone(zone=replace(SWISS, countries=frozenset({"CH", "LI"}))))
    await shop.bus.handle(sh.CreateShippingMethod(method=replace(
        POST, id="ch-courier", name="Courier", amount=2500, countries=frozenset({"LI"}))))
    checkout_id = await _checkout_to(shop.bus, ZURICH)
    options = await shop.bus.handle(co.ShippingOptions(owner=GUEST, checkout_id=checkout_id))
    assert [o.id for o in options] == ["ch-post"]
    with pytest.raises(InvalidShipping, match=r"^countries: method 'ch-courier' would not fit the zone"):
        await shop.bus.handle(sh.UpdateShippingZone(zone=SWISS))  # without LI, where the courier goes


@pytest.mark.parametrize(("command", "field"), [
    (sh.CreateShippingZone(zone=Zone(id="x", name="X", countries=frozenset({"ZZ"}))), "countries"),
    (sh.CreateShippingZone(zone=Zone(id="x", name="X", countries=frozenset({"US"}),
                                     regions=frozenset({"US-XX"}))), "regions"),
    (sh.UpdateShippingZone(zone=replace(SWISS, countries=frozenset())), "countries"),
    (sh.CreateShippingMethod(method=replace(POST, id="ch-yen", currency="JPX")), "currency"),
    (sh.CreateShippingMethod(method=replace(POST, id="ch-bands", kind=RateKind.WEIGHT, amount=0,
                                            bands=((2000, 500), (1000, 900)))), "bands"),
    (sh.UpdateShippingMethod(method=replace(POST, amount=-1)), "amount"),
    (sh.UpdateShippingMethod(method=replace(POST, free_over=-1)), "free_over"),
    (sh.UpdateShippingMethod(method=replace(POST, zone_id="eu", countries=frozenset({"CH"}))), "countries"),
    (sh.UpdateShippingMethod(method=replace(POST, zone_id="nowhere")), "zone_id"),
], ids=["country", "region", "no-country", "currency", "bands", "amount", "free-over", "outside", "zone"])
async def test_a_change_the_table_cannot_hold_is_refused_and_changes_nothing(shop, command, field) -> None:
    before = await _table(shop.bus)
    with pytest.raises(InvalidShipping) as refused:
        await shop.bus.handle(command)
    assert refused.value.field == field
    assert await _table(shop.bus) == before


async def test_a_zone_with_methods_is_not_deleted_until_they_are(shop) -> None:
    with pytest.raises(ShippingZoneInUse) as in_use:
        await shop.bus.handle(sh.DeleteShippingZone(zone_id="ch"))
    assert in_use.value.method_ids == ["ch-post"]
    await shop.bus.handle(sh.DeleteShippingMethod(method_id="ch-post"))
    await shop.bus.handle(sh.DeleteShippingZone(zone_id="ch"))
    assert "ch" not in [z.id for z in await shop.bus.handle(sh.ListShippingZones())]
    assert await shop.bus.handle(sh.ListShippingMethods(zone_id="ch")) == []
