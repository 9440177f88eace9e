"""Promotions through the bus: drafts, publishing, the cart priced by the engine, coupons and limits."""

from __future__ import annotations

import pytest

from application.carts import commands as cart
from application.catalog.commands import CreateProduct, UpdateProduct
from application.checkout import commands as co
from application.customers.handlers import RegisterCustomer
from application.orders.stock import SecureOrderStock
from application.promotions import handlers as p
from application.promotions.errors import CouponExhausted
from application.promotions.ports import Limits
from domain.carts.cart import Owner
from domain.promotions.errors import ParseError
from tests.support.unit import GUEST, Shop, all_orders, build_shop, read_order, ready_to_pay, stock

RUNNERS_20 = "when quantity(all) >= 1 then 20% off lines(all)"


async def create(bus, rule: str, *, name: str = "Promo", limits: Limits | None = None, codes=()) -> str:
    view = await bus.handle(p.CreatePromotion(terms=p.TermsInput(name=name, rule=rule, coupon_codes=codes),
                                              limits=limits or Limits()))
    return view["id"]


@pytest.fixture
def shop() -> Shop:
    return build_shop()


@pytest.fixture
async def runner_shop(shop):
    bus, *_ = shop
    await bus.handle(CreateProduct(name="Runner", sku="RUN-1", price_amount=10000, currency="EUR", status="active"))
    await stock(bus, "RUN-1", 10)
    return shop


async def test_a_draft_does_nothing_until_published_and_the_cart_shows_why(runner_shop) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20, name="20 % off")
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=2))
    assert (await bus.handle(cart.ViewCart(owner=GUEST))).discount == 0
    published = await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    assert published["status"] == "published"
    view = await bus.handle(cart.ViewCart(owner=GUEST))
    assert (view.subtotal, view.discount, view.total) == (20000, 4000, 16000)
    [adjustment] = view.lines[0].adjustments
    assert (adjustment.promotion_id, adjustment.version, adjustment.label) == (promotion_id, 1, "20 % off")


async def test_editing_a_published_promotion_drafts_version_two_and_carts_keep_version_one(runner_shop) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20)
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    edited = await bus.handle(p.EditPromotion(promotion_id=promotion_id, terms=p.TermsInput(
        name="Promo", rule="when quantity(all) >= 1 then 50% off lines(all)")))
    assert [v["number"] for v in edited["versions"]] == [1, 2]
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    view = await bus.handle(cart.ViewCart(owner=GUEST))
    assert (view.discount, view.lines[0].adjustments[0].version) == (2000, 1)
    preview = await bus.handle(p.PreviewPromotion(promotion_id=promotion_id, lines=(("RUN-1", 1),), currency="EUR"))
    assert (preview["version"], preview["discount"]) == (2, 5000)


async def test_a_bad_rule_is_refused_with_its_position(runner_shop) -> None:
    bus, *_ = runner_shop
    with pytest.raises(ParseError):
        await create(bus, "when quantity(all) >= then 20% off lines(all)")


async def test_a_coupon_gated_promotion_needs_its_code_and_a_single_use_code_redeems_once(runner_shop) -> None:
    bus, uow, *_ = runner_shop
    promotion_id = await create(bus, "when quantity(all) >= 1 then 10.00 EUR off order")
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    [code] = await bus.handle(p.AddCoupons(promotion_id=promotion_id, generate=1, prefix="WELCOME", usage_limit=1))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    assert (await bus.handle(cart.ViewCart(owner=GUEST))).discount == 0
    await bus.handle(cart.ApplyCoupon(owner=GUEST, code=code.lower()))
    view = await bus.handle(cart.ViewCart(owner=GUEST))
    assert view.discount == 1000
    assert [(c.code, c.applied) for c in view.coupons] == [(code, True)]

    async def checkout(owner: Owner) -> str:
        checkout_id, view = await ready_to_pay(bus, owner, email=f"{owner.id}@example.com")
        assert view.totals["discount"] == 1000
        return checkout_id

    other = Owner.guest("guest-b")
    await bus.handle(cart.AddCartLine(owner=other, sku="RUN-1", quantity=1))
    await bus.handle(cart.ApplyCoupon(owner=other, code=code))
    first, second = await checkout(GUEST), await checkout(other)
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=first))
    assert (await read_order(uow, placed.order_id)).totals.discount == 1000
    with pytest.raises(CouponExhausted):
        await bus.handle(co.PlaceOrder(owner=other, checkout_id=second))
    assert len(await all_orders(uow)) == 1
    used = await bus.handle(cart.ViewCart(owner=other))
    assert used.discount == 0
    assert used.coupons[0].reason == "this coupon has been used up"


async def test_a_redemption_limit_stops_the_promotion_for_the_next_cart(runner_shop) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20, limits=Limits(max_redemptions=1))
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, email="a@example.com", provider="manual")
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    other = Owner.guest("guest-c")
    await bus.handle(cart.AddCartLine(owner=other, sku="RUN-1", quantity=1))
    assert (await bus.handle(cart.ViewCart(owner=other))).discount == 0


async def test_archived_promotions_and_archived_products_drop_out(runner_shop) -> None:
    bus, uow, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20)
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    await bus.handle(p.ArchivePromotion(promotion_id=promotion_id))
    assert (await bus.handle(cart.ViewCart(owner=GUEST))).discount == 0
    listed = await bus.handle(p.ListPromotions())
    assert [x["status"] for x in listed] == ["archived"]
    async with uow() as tx:
        [product_id] = await tx.products.product_ids_for_skus(["RUN-1"])
    await bus.handle(UpdateProduct(product_id=product_id, status="archived"))
    assert (await bus.handle(cart.ViewCart(owner=GUEST))).total == 0


async def test_an_order_line_keeps_the_version_that_priced_it_after_the_promotion_changes(runner_shop) -> None:
    bus, uow, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20)
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, email="a@example.com", provider="manual")
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    await bus.handle(p.EditPromotion(promotion_id=promotion_id, terms=p.TermsInput(
        name="Promo", rule="when quantity(all) >= 1 then 50% off lines(all)")))
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    [line] = (await read_order(uow, placed.order_id)).lines
    assert [(a.promotion_id, a.version, a.amount) for a in line.promotions] == [(promotion_id, 1, 2000)]
    assert (line.discount, line.total) == (2000, 8000)


async def test_a_malformed_rule_saves_nothing(runner_shop) -> None:
    bus, *_ = runner_shop
    with pytest.raises(ParseError) as error:
        await create(bus, "when quantity(all) >= 1 then 20% of lines(all)")
    assert error.value.position > 0
    assert await bus.handle(p.ListPromotions()) == []


async def test_a_free_order_is_paid_the_moment_it_is_placed(runner_shop) -> None:
    bus, uow, *_ = runner_shop
    promotion_id = await create(bus, "when quantity(all) >= 1 then 100% off lines(all) and free shipping")
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    checkout_id, view = await ready_to_pay(bus, GUEST, email="a@example.com", provider="stripe")
    assert view.totals["total"] == 0
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert placed.status == "paid"
    assert (await read_order(uow, placed.order_id)).status.value == "paid"
    assert await bus.handle(SecureOrderStock(order_id=placed.order_id)) == "committed"


async def test_a_customer_who_used_up_a_promotion_no_longer_sees_it_and_budgets_cap_discounts(runner_shop) -> None:
    bus, *_ = runner_shop
    registered = await bus.handle(RegisterCustomer(email="alice@example.com", password="correct horse 42",
                                                   name="Alice"))
    alice = Owner.customer(registered.id)
    once = await create(bus, RUNNERS_20, name="Once each", limits=Limits(per_customer=1, budget={"EUR": 3000}))
    await bus.handle(p.PublishPromotion(promotion_id=once))
    await bus.handle(cart.AddCartLine(owner=alice, sku="RUN-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, alice, email="alice@example.com", provider="manual")
    await bus.handle(co.PlaceOrder(owner=alice, checkout_id=checkout_id))
    await bus.handle(cart.AddCartLine(owner=alice, sku="RUN-1", quantity=1))
    assert (await bus.handle(cart.ViewCart(owner=alice))).discount == 0  # used once: gone for her
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    assert (await bus.handle(cart.ViewCart(owner=GUEST))).discount == 1000  # only €10 of the €30 budget left
