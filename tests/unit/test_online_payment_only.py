"""A SKU can require online payment: a merchandiser marks the variant, and a cart holding it (or a bundle
holding it) cannot start a pay-later (manual) payment. Through the bus, with the in-memory fakes."""

from __future__ import annotations

import pytest

from application.carts import commands as cart
from application.catalog.commands import AddVariant, CreateProduct, PriceSpec, SetPrices, UpdateVariant, VariantSpec
from application.checkout import commands as co
from application.payments.errors import OnlinePaymentRequired, PayLaterNotOffered
from tests.support.unit import BERLIN, GUEST, Shop, available, build_shop, ready_to_pay, stock


@pytest.fixture
async def shop() -> Shop:
    shop = build_shop()
    for name, sku, price in (("Sneaker", "DROP-1", 19900), ("Sock", "SOCK-1", 500)):
        await shop.bus.handle(CreateProduct(name=name, sku=sku, price_amount=price, currency="EUR", status="active"))
        await stock(shop.bus, sku, 10)
    return shop


async def _product_of(shop: Shop, sku: str) -> str:
    async with shop.uow() as tx:
        [product_id] = await tx.products.product_ids_for_skus([sku])
    return product_id


async def _flag(shop: Shop, sku: str, value: bool | None = True, **change: int) -> None:
    await shop.bus.handle(
        UpdateVariant(product_id=await _product_of(shop, sku), sku=sku, requires_online_payment=value, **change)
    )


async def _requires_online_payment(shop: Shop, sku: str) -> bool:
    async with shop.uow() as tx:
        product = await tx.products.get(await _product_of(shop, sku))
    return product.variant(sku).requires_online_payment


async def test_pay_later_is_refused_for_a_cart_holding_a_sku_that_requires_online_payment(shop) -> None:
    await _flag(shop, "DROP-1")
    for sku in ("DROP-1", "SOCK-1"):
        await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku=sku, quantity=1))
    with pytest.raises(OnlinePaymentRequired) as refused:
        await ready_to_pay(shop.bus, GUEST, provider="manual")
    assert refused.value.skus == ["DROP-1"]  # the flagged SKU, not the sock beside it
    assert "pay online" in str(refused.value)
    assert isinstance(refused.value, PayLaterNotOffered)  # a kind of "no pay-later here"
    assert (await available(shop.uow, "DROP-1"), await available(shop.uow, "SOCK-1")) == (10, 10)  # nothing held


async def test_the_same_cart_pays_online_and_its_checkout_is_not_spoiled_by_the_refusal(shop) -> None:
    await _flag(shop, "DROP-1")
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="DROP-1", quantity=2))
    checkout_id = (await shop.bus.handle(co.StartCheckout(owner=GUEST))).id
    await shop.bus.handle(co.SetContact(owner=GUEST, checkout_id=checkout_id, email="ada@example.com"))
    await shop.bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=BERLIN))
    await shop.bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    with pytest.raises(OnlinePaymentRequired):
        await shop.bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    paying = await shop.bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe"))
    assert (paying.state, paying.payment_provider) == ("payment", "stripe")
    assert await available(shop.uow, "DROP-1") == 8


async def test_a_bundle_holding_a_component_that_requires_online_payment_cannot_be_paid_later(shop) -> None:
    await _flag(shop, "DROP-1")
    await shop.bus.handle(
        CreateProduct(
            name="Kit", status="active", variants=[VariantSpec(sku="KIT-1", components=[("DROP-1", 1), ("SOCK-1", 2)])]
        )
    )
    async with shop.uow() as tx:
        price_list = next(pl.id for pl in await tx.price_lists.for_skus(["KIT-1"]) if pl.currency == "EUR")
    await shop.bus.handle(SetPrices(price_list_id=price_list, prices=[PriceSpec(sku="KIT-1", amount=20000)]))
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="KIT-1", quantity=1))
    with pytest.raises(OnlinePaymentRequired) as refused:
        await ready_to_pay(shop.bus, GUEST, provider="manual")
    assert refused.value.skus == ["KIT-1"]


async def test_the_flag_is_kept_by_other_variant_changes_and_lifted_only_when_set_false(shop) -> None:
    await _flag(shop, "DROP-1")
    await _flag(shop, "DROP-1", None, weight_grams=900)  # a change that does not name the flag keeps it
    assert await _requires_online_payment(shop, "DROP-1") is True
    await _flag(shop, "DROP-1", False)
    assert await _requires_online_payment(shop, "DROP-1") is False
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="DROP-1", quantity=1))
    _, view = await ready_to_pay(shop.bus, GUEST, provider="manual")
    assert view.payment_provider == "manual"


async def test_a_variant_added_as_online_only_is_refused_pay_later_and_its_siblings_are_not(shop) -> None:
    product_id = await _product_of(shop, "SOCK-1")
    await shop.bus.handle(
        AddVariant(product_id=product_id, variant=VariantSpec(sku="SOCK-GOLD", requires_online_payment=True))
    )
    assert await _requires_online_payment(shop, "SOCK-GOLD") is True
    assert await _requires_online_payment(shop, "SOCK-1") is False
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="SOCK-1", quantity=1))
    _, view = await ready_to_pay(shop.bus, GUEST, provider="manual")  # the sibling still pays later
    assert view.payment_provider == "manual"


async def test_the_refusal_names_every_sku_that_requires_online_payment(shop) -> None:
    for sku in ("SOCK-1", "DROP-1"):
        await _flag(shop, sku)
        await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku=sku, quantity=1))
    with pytest.raises(OnlinePaymentRequired, match=r"^pay online: DROP-1, SOCK-1 cannot be paid later$"):
        await ready_to_pay(shop.bus, GUEST, provider="manual")
