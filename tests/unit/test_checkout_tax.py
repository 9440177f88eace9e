"""Tax at checkout through the bus: a product's tax class, the destination's convention (VAT inside the
price in Europe, sales tax on top in the US) whatever the channel's, and a destination we cannot tax
refused at the address step."""

from __future__ import annotations

import pytest

from adapters.memory.tax import MemoryRegionalTaxRates
from adapters.system.tax import RateTableTax
from adapters.system.vat_rates import european_vat_rates
from application.carts import commands as cart
from application.catalog.commands import CreateProduct, UpdateProduct
from application.checkout import commands as co
from application.tax.commands import ListStateTaxRates, RemoveStateTaxRate, SetStateTaxRate
from domain.shared.address import Address
from domain.tax.rates import (
    InvalidTaxRate,
    TaxRate,
    TaxRateNotFound,
    UnknownTaxClass,
    UntaxedDestination,
    state_rate,
)
from tests.support.unit import BERLIN, GUEST, Shop, build_shop, read_order, stock

CALIFORNIA = Address(name="Ada", line1="1 Market St", city="San Francisco", postal_code="94105", country="US",
                     region="CA")
PORTLAND = Address(name="Ada", line1="1 SW Main St", city="Portland", postal_code="97201", country="US",
                   region="OR")
PARIS = Address(name="Ada", line1="1 Rue de Rivoli", city="Paris", postal_code="75001", country="FR")


async def _product(bus, sku: str, price: int, currency: str = "EUR", tax_class: str = "standard") -> str:
    product_id = await bus.handle(CreateProduct(name=sku.title(), sku=sku, price_amount=price, currency=currency,
                                                status="active", tax_class=tax_class))
    await stock(bus, sku, 10)
    return product_id


async def _pay(bus, address: Address, method: str, skus: list[str], channel: str | None = None):
    for sku in skus:
        await bus.handle(cart.AddCartLine(owner=GUEST, sku=sku, quantity=1, channel=channel))
    checkout_id = (await bus.handle(co.StartCheckout(owner=GUEST))).id
    await bus.handle(co.SetContact(owner=GUEST, checkout_id=checkout_id, email="ada@example.com"))
    await bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=address))
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id=method))
    return await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))


async def test_a_euro_shelf_price_sold_to_california_drops_german_vat_and_adds_sales_tax_on_top() -> None:
    shop = build_shop()
    await _product(shop.bus, "SHOE", 5950)
    view = await _pay(shop.bus, CALIFORNIA, "us-eur-international", ["SHOE"])
    # €59.50 holds 19 % German VAT (€9.50): €50.00 net; shipping €19.90 holds €3.18: €16.72 net.
    # California's 7.25 % on top: 362.5 → 362 (half to even) and 121.22 → 121.
    assert view.totals == {"subtotal": 5000, "discount": 0, "shipping": 1672, "tax": 362 + 121,
                           "total": 5000 + 1672 + 483, "prices_include_tax": False}
    assert [(line["unit_price"], line["subtotal"], line["total"], line["tax"]) for line in view.lines] == [
        (5000, 5000, 5000, 362)]
    assert {(t["name"], t["basis_points"]) for t in view.tax_lines} == {("CA sales tax", 725)}
    placed = await shop.bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=view.id))
    order = await read_order(shop.uow, placed.order_id)
    assert (order.totals.total, order.totals.tax, order.totals.prices_include_tax) == (7155, 483, False)


async def test_a_net_price_channel_selling_to_a_consumer_in_france_charges_the_price_with_vat_inside() -> None:
    shop = build_shop(channels="web:EUR:DE:incl:pay-later,trade:EUR:DE:excl:pay-later")
    await _product(shop.bus, "LAMP", 5000)
    view = await _pay(shop.bus, PARIS, "eu-express", ["LAMP"], channel="trade")
    # €50.00 net + 20 % = €60.00, VAT €10.00 inside; express €9.90 net + 20 % = €11.88, €1.98 inside.
    assert view.totals == {"subtotal": 6000, "discount": 0, "shipping": 1188, "tax": 1000 + 198, "total": 7188,
                           "prices_include_tax": True}


async def test_each_line_pays_the_rate_of_its_products_tax_class_in_the_destination_country() -> None:
    shop = build_shop()
    classes = {"SHIRT": "standard", "BOOK": "reduced", "MEAL": "reduced-2", "PAPER": "super-reduced",
               "GIFT": "zero", "FEE": "exempt"}
    prices = {"SHIRT": 1200, "BOOK": 1055, "MEAL": 1100, "PAPER": 1021, "GIFT": 1000, "FEE": 1000}
    for sku, tax_class in classes.items():
        await _product(shop.bus, sku, prices[sku], tax_class=tax_class)
    view = await _pay(shop.bus, PARIS, "eu-standard", list(classes))  # over €50: shipping is free
    by_sku = {line["id"]: line["sku"] for line in view.lines}
    taxed = {by_sku[t["applies_to"]]: (t["basis_points"], t["amount"], t["name"]) for t in view.tax_lines}
    assert taxed == {
        "SHIRT": (2000, 200, "TVA"), "BOOK": (550, 55, "TVA reduced"), "MEAL": (1000, 100, "TVA reduced-2"),
        "PAPER": (210, 21, "TVA super-reduced"), "GIFT": (0, 0, "zero-rated"), "FEE": (0, 0, "exempt"),
    }
    assert view.totals["tax"] == 200 + 55 + 100 + 21
    assert view.totals["total"] == sum(prices.values())

    # Germany has one reduced rate: the classes it lacks pay its standard rate, never less.
    germany = build_shop()
    for sku, tax_class in classes.items():
        await _product(germany.bus, sku, prices[sku], tax_class=tax_class)
    view = await _pay(germany.bus, BERLIN, "eu-standard", list(classes))
    by_sku = {line["id"]: line["sku"] for line in view.lines}
    assert {by_sku[t["applies_to"]]: t["basis_points"] for t in view.tax_lines} == {
        "SHIRT": 1900, "BOOK": 700, "MEAL": 1900, "PAPER": 1900, "GIFT": 0, "FEE": 0}


async def test_a_state_the_merchant_keeps_no_rate_for_is_refused_at_the_address_until_one_is_set() -> None:
    shop = build_shop()
    await _product(shop.bus, "HOODIE", 4999, currency="USD")
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="HOODIE", quantity=1, channel="us"))
    checkout_id = (await shop.bus.handle(co.StartCheckout(owner=GUEST))).id
    await shop.bus.handle(co.SetContact(owner=GUEST, checkout_id=checkout_id, email="ada@example.com"))
    with pytest.raises(UntaxedDestination, match=r"^no tax rate is known for US-OR: we cannot sell to it$"):
        await shop.bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=PORTLAND))
    assert (await shop.bus.handle(co.GetCheckout(owner=GUEST, checkout_id=checkout_id))).shipping_address is None

    assert await shop.bus.handle(SetStateTaxRate(state="OR", basis_points=0, name="Oregon")) == state_rate(
        "OR", 0, "Oregon")
    await shop.bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=PORTLAND))
    await shop.bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="us-ground"))
    view = await shop.bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    assert (view.totals["tax"], view.totals["total"], view.totals["prices_include_tax"]) == (0, 4999 + 799, False)

    await shop.bus.handle(SetStateTaxRate(state="OR", basis_points=100))
    assert [(r.region, r.basis_points, r.name) for r in await shop.bus.handle(ListStateTaxRates())] == [
        ("CA", 725, "CA sales tax"), ("NY", 400, "NY sales tax"), ("OR", 100, "OR sales tax"),
        ("TX", 625, "TX sales tax"), ("WA", 650, "WA sales tax")]
    await shop.bus.handle(RemoveStateTaxRate(state="OR"))
    with pytest.raises(UntaxedDestination):
        await shop.bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=PORTLAND))
    with pytest.raises(TaxRateNotFound, match=r"^no sales tax is kept for US-OR$"):
        await shop.bus.handle(RemoveStateTaxRate(state="OR"))
    with pytest.raises(InvalidTaxRate):
        await shop.bus.handle(SetStateTaxRate(state="ZZ", basis_points=100))
    assert len(await shop.bus.handle(ListStateTaxRates())) == 4


async def _tax_class_of(shop: Shop, product_id: str) -> tuple[str, int]:
    async with shop.uow() as tx:
        product = await tx.products.get(product_id)
    return product.tax_class, product.version


async def test_a_product_carries_its_tax_class_and_an_unknown_one_changes_nothing() -> None:
    shop = build_shop()
    product_id = await _product(shop.bus, "BOOK", 1500, tax_class="reduced")
    assert await _tax_class_of(shop, product_id) == ("reduced", 1)
    with pytest.raises(UnknownTaxClass, match=r"^unknown tax class 'books'"):
        await shop.bus.handle(UpdateProduct(product_id=product_id, tax_class="books", name="Renamed"))
    assert await _tax_class_of(shop, product_id) == ("reduced", 1)
    assert await shop.bus.handle(UpdateProduct(product_id=product_id, tax_class="zero")) == 2
    assert await _tax_class_of(shop, product_id) == ("zero", 2)
    with pytest.raises(UnknownTaxClass):
        await shop.bus.handle(CreateProduct(name="Bad", sku="BAD", price_amount=1, currency="EUR",
                                            tax_class="books"))


# The Canary Islands (province of Santa Cruz de Tenerife) charge IGIC, 7 % inside the price, not Spain's VAT.
TENERIFE = Address(name="Ada", line1="Calle Castillo 1", city="Santa Cruz de Tenerife", postal_code="38002",
                   country="ES", region="TF")
IGIC = TaxRate(country="ES", region="TF", tax_class="standard", basis_points=700, name="IGIC")
IGIC_REDUCED = TaxRate(country="ES", region="TF", tax_class="reduced", basis_points=300, name="IGIC reducido")


def _with_igic() -> RateTableTax:
    return RateTableTax([*european_vat_rates(), IGIC, IGIC_REDUCED], regional=MemoryRegionalTaxRates())


async def test_converting_a_price_takes_the_rate_of_the_region_and_of_the_lines_tax_class() -> None:
    # A net channel into Tenerife: IGIC added, 3 % on the reduced book, 7 % on the rest (not Spain's 21 / 10).
    shop = build_shop(channels="trade:EUR:DE:excl:pay-later", tax=_with_igic())
    await _product(shop.bus, "BOOK", 1000, tax_class="reduced")
    await _product(shop.bus, "LAMP", 5000)
    view = await _pay(shop.bus, TENERIFE, "eu-express", ["BOOK", "LAMP"], channel="trade")
    assert [(line["sku"], line["unit_price"], line["tax"]) for line in view.lines] == [
        ("BOOK", 1030, 30), ("LAMP", 5350, 350)]
    assert (view.totals["shipping"], view.totals["total"]) == (990 + 69, 1030 + 5350 + 1059)

    # A shop in Tenerife (IGIC inside its prices) selling to California: its IGIC comes out, not Spain's VAT.
    shop = build_shop(channels="islas:EUR:ES-TF:incl:pay-later", tax=_with_igic())
    await _product(shop.bus, "BOOK", 1030, tax_class="reduced")
    await _product(shop.bus, "LAMP", 5350)
    view = await _pay(shop.bus, CALIFORNIA, "us-eur-international", ["BOOK", "LAMP"], channel="islas")
    assert [(line["sku"], line["unit_price"]) for line in view.lines] == [("BOOK", 1000), ("LAMP", 5000)]
    assert view.totals["shipping"] == 1990 - 130  # 1990 × 7/107 = 130.2
