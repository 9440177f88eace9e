"""Promotions through the bus: drafts, publishing, the cart priced by the engine, coupons and limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from application.carts import commands as cart
from application.carts.errors import UnknownCoupon
from application.catalog.categories import AddCategory
from application.catalog.commands import CreateProduct, PriceSpec, SetPrices, UpdateProduct
from application.checkout import commands as co
from application.customers.handlers import RegisterCustomer
from application.orders.stock import SecureOrderStock
from application.promotions import handlers as p
from application.promotions.codec import promotion_from_builtins, promotion_to_builtins
from application.promotions.errors import CouponExhausted
from application.promotions.ports import Coupon, Limits
from domain.carts.cart import Owner
from domain.promotions.errors import ParseError, PromotionNotFound
from domain.promotions.promotion import Promotion, PromotionStatus
from domain.shared.errors import InvalidInput
from tests.support.unit import GUEST, Shop, all_orders, build_shop, peek_outbox, read_order, ready_to_pay, stock

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


async def test_a_coupon_gated_promotion_without_its_code_leaves_the_promotions_after_it_applying(runner_shop) -> None:
    bus, *_ = runner_shop
    gated = await create(bus, "when quantity(all) >= 1 then 10.00 EUR off order", name="Gated")
    await bus.handle(p.PublishPromotion(promotion_id=gated))
    await bus.handle(p.AddCoupons(promotion_id=gated, generate=1, prefix="VIP", usage_limit=1))
    await bus.handle(p.PublishPromotion(promotion_id=await create(bus, RUNNERS_20, name="Open")))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    assert (await bus.handle(cart.ViewCart(owner=GUEST))).discount == 2000  # the open one; the gated one waits


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


# -- what a promotion is shown and stored as ----------------------------------------------------------------------

JULY, AUGUST = datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)


async def test_a_promotion_is_shown_with_every_term_its_window_and_its_limits_as_given(runner_shop) -> None:
    bus, _, clock, *_ = runner_shop
    created = await bus.handle(p.CreatePromotion(
        terms=p.TermsInput(name="Summer", rule=RUNNERS_20, priority=3, exclusive_group="season",
                           not_combinable_with=("other-promo",), max_discount_per_order=((5000, "EUR"),),
                           coupon_codes=("summer",)),
        limits=Limits(max_redemptions=100, per_customer=2, budget={"EUR": 100000}), starts_at=JULY, ends_at=AUGUST,
    ))
    assert created == await bus.handle(p.GetPromotion(promotion_id=created["id"]))
    assert created == {
        "id": created["id"], "version": 1, "starts_at": JULY.isoformat(), "ends_at": AUGUST.isoformat(),
        "archived_at": None, "status": "draft",
        "versions": [{
            "number": 1, "created_at": clock.now().isoformat(), "published_at": None,
            "terms": {"name": "Summer", "rule": RUNNERS_20, "priority": 3, "exclusive_group": "season",
                      "not_combinable_with": ["other-promo"],
                      "max_discount_per_order": [{"amount": 5000, "currency": "EUR"}], "coupon_codes": ["SUMMER"]},
        }],
        "limits": {"max_redemptions": 100, "per_customer": 2, "budget": {"EUR": 100000}},
    }


def _stored(promotion: Promotion) -> Promotion:
    return promotion_from_builtins(json.loads(json.dumps(promotion_to_builtins(promotion))))


def _same(a: Promotion, b: Promotion) -> None:
    assert (a.id, a.version, a.starts_at, a.ends_at, a.archived_at, a.versions) == (
        b.id, b.version, b.starts_at, b.ends_at, b.archived_at, b.versions
    )


def test_a_promotion_round_trips_through_its_stored_form_exactly() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    fresh = Promotion.create(id="promo-1", terms=p.TermsInput(name="Plain", rule=RUNNERS_20).terms(), now=now)
    _same(_stored(fresh), fresh)
    assert _stored(fresh).starts_at is None
    full = Promotion.create(id="promo-2", now=now, terms=p.TermsInput(
        name="Summer", rule=RUNNERS_20, priority=3, exclusive_group="season", not_combinable_with=("promo-1",),
        max_discount_per_order=((5000, "EUR"), (6000, "USD")), coupon_codes=("summer", "sun"),
    ).terms())
    full.publish(now=now + timedelta(hours=1))
    full.edit(p.TermsInput(name="Summer, more", rule="when always then free shipping").terms(),
              now=now + timedelta(hours=2))
    full.schedule(starts_at=JULY, ends_at=AUGUST, now=now + timedelta(hours=3))
    full.archive(now=now + timedelta(hours=4))
    stored = _stored(full)
    _same(stored, full)
    assert (stored.status, stored.archived_at, [v.published_at for v in stored.versions]) == (
        PromotionStatus.ARCHIVED, now + timedelta(hours=4), [now + timedelta(hours=1), None]
    )


async def test_a_promotion_is_listed_with_its_published_and_latest_versions(runner_shop) -> None:
    bus, *_ = runner_shop
    draft = await create(bus, RUNNERS_20, name="Draft")
    edited = await create(bus, RUNNERS_20, name="Edited")
    await bus.handle(p.PublishPromotion(promotion_id=edited))
    await bus.handle(p.EditPromotion(promotion_id=edited, terms=p.TermsInput(name="Edited again", rule=RUNNERS_20)))
    assert await bus.handle(p.ListPromotions()) == [
        {"id": draft, "status": "draft", "name": "Draft", "published_version": None, "latest_version": 1},
        {"id": edited, "status": "published", "name": "Edited again", "published_version": 1, "latest_version": 2},
    ]


async def test_a_scheduled_promotion_applies_only_inside_its_window_with_its_code(runner_shop) -> None:
    bus, _, clock, _, outbox = runner_shop
    promotion_id = await create(bus, RUNNERS_20, codes=("summer",))
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    clock.advance(timedelta(minutes=5))
    view = await bus.handle(p.SchedulePromotion(promotion_id=promotion_id, starts_at=JULY, ends_at=AUGUST))
    assert (view["starts_at"], view["ends_at"]) == (JULY.isoformat(), AUGUST.isoformat())
    [scheduled] = [m for m in await peek_outbox(outbox) if m.topic == "promotions.promotion_scheduled.v1"]
    assert scheduled.occurred_at == clock.now()
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    with pytest.raises(UnknownCoupon):  # June: its promotion has not started, so the code is not valid yet
        await bus.handle(cart.ApplyCoupon(owner=GUEST, code="summer"))
    clock.advance(JULY - clock.now())
    await bus.handle(cart.ApplyCoupon(owner=GUEST, code="summer"))
    assert (await bus.handle(cart.ViewCart(owner=GUEST))).discount == 2000
    clock.advance(AUGUST - clock.now())
    assert (await bus.handle(cart.ViewCart(owner=GUEST))).discount == 0  # ended


# -- coupon codes ---------------------------------------------------------------------------------------------------


async def _coupons(uow, *codes: str) -> dict[str, Coupon]:
    async with uow() as tx:
        found: dict[str, Coupon] = await tx.promotions.coupons(list(codes))
    return found


async def test_codes_named_in_the_terms_become_unlimited_coupons_of_that_promotion_alone(runner_shop) -> None:
    bus, uow, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20, codes=("summer",))
    assert await _coupons(uow, "SUMMER") == {"SUMMER": Coupon(code="SUMMER", promotion_id=promotion_id)}
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    await bus.handle(p.EditPromotion(promotion_id=promotion_id, terms=p.TermsInput(
        name="Promo", rule=RUNNERS_20, coupon_codes=("summer", "autumn"))))
    assert await _coupons(uow, "SUMMER", "AUTUMN") == {
        "SUMMER": Coupon(code="SUMMER", promotion_id=promotion_id),
        "AUTUMN": Coupon(code="AUTUMN", promotion_id=promotion_id),
    }
    with pytest.raises(InvalidInput, match=r"^coupon SUMMER belongs to another promotion$"):
        await create(bus, RUNNERS_20, name="Thief", codes=("summer",))
    assert [x["id"] for x in await bus.handle(p.ListPromotions())] == [promotion_id]


async def test_coupons_are_generated_between_zero_and_ten_thousand_at_once(runner_shop) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20)
    for generate in (-1, 10_001):
        with pytest.raises(InvalidInput, match=r"^generate between 0 and 10,000 codes at once$"):
            await bus.handle(p.AddCoupons(promotion_id=promotion_id, generate=generate))
    codes = await bus.handle(p.AddCoupons(promotion_id=promotion_id, generate=10_000))
    assert len(set(codes)) == 10_000
    assert all(len(code) == 10 and set(code) <= set(p.CODE_ALPHABET) for code in codes)
    assert await bus.handle(p.AddCoupons(promotion_id=promotion_id, codes=(" vip-1 ",), generate=0)) == ["VIP-1"]
    prefixed = await bus.handle(p.AddCoupons(promotion_id=promotion_id, generate=2, prefix="welcome"))
    assert all(code.startswith("WELCOME") and len(code) == 17 for code in prefixed)


async def test_a_coupon_request_is_refused_naming_what_is_wrong_and_limits_are_stored_as_given(runner_shop) -> None:
    bus, uow, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20)
    with pytest.raises(InvalidInput, match=r"^a usage limit is at least 1$"):
        await bus.handle(p.AddCoupons(promotion_id=promotion_id, codes=("ZERO",), usage_limit=0))
    with pytest.raises(InvalidInput, match=r"^give codes or a number to generate$"):
        await bus.handle(p.AddCoupons(promotion_id=promotion_id))
    with pytest.raises(InvalidInput, match=r"^duplicate codes in the request$"):
        await bus.handle(p.AddCoupons(promotion_id=promotion_id, codes=("twice", "TWICE")))
    with pytest.raises(PromotionNotFound):
        await bus.handle(p.AddCoupons(promotion_id="no-such-promotion", codes=("LOST",)))
    assert await bus.handle(p.AddCoupons(promotion_id=promotion_id, codes=("ONE",), usage_limit=1)) == ["ONE"]
    await bus.handle(p.AddCoupons(promotion_id=promotion_id, codes=("MANY",), usage_limit=None, per_customer_limit=2))
    assert await _coupons(uow, "ZERO", "LOST", "ONE", "MANY") == {
        "ONE": Coupon(code="ONE", promotion_id=promotion_id, usage_limit=1),
        "MANY": Coupon(code="MANY", promotion_id=promotion_id, usage_limit=None, per_customer_limit=2),
    }


# -- preview: a given cart priced with the promotion's newest version alone ---------------------------------------


async def preview(bus, promotion_id: str, lines=(("RUN-1", 1),), **context) -> dict:
    return await bus.handle(p.PreviewPromotion(promotion_id=promotion_id, lines=lines, currency="EUR", **context))


async def test_a_preview_shows_the_totals_each_line_and_why_the_promotion_applied(runner_shop) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20)
    assert await preview(bus, promotion_id) == {
        "version": 1, "subtotal": 10000, "discount": 2000, "shipping_discount": 0, "total": 8000,
        "lines": [{"sku": "RUN-1", "subtotal": 10000, "discount": 2000, "total": 8000}],
        "trace": [{"promotion_id": promotion_id, "version": 1, "applied": True, "amount": 2000, "reason": "applied"}],
    }


async def test_a_preview_prices_the_newest_version_with_its_cap(runner_shop) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20)
    for number in (2, 3):
        await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
        await bus.handle(p.EditPromotion(promotion_id=promotion_id, terms=p.TermsInput(
            name="Promo", rule=f"when quantity(all) >= 1 then {10 * number}% off lines(all)",
            max_discount_per_order=((2500, "EUR"),))))
    assert (await preview(bus, promotion_id, lines=(("RUN-1", 1),)))["version"] == 3
    capped = await preview(bus, promotion_id, lines=(("RUN-1", 2),))  # 30 % of 200.00, capped at 25.00
    assert (capped["version"], capped["discount"]) == (3, 2500)


async def test_a_preview_needs_one_of_the_promotions_codes_its_own_or_a_registered_one(runner_shop) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20, codes=("summer",))
    await bus.handle(p.AddCoupons(promotion_id=promotion_id, codes=("VIP-1",)))
    without = await preview(bus, promotion_id)
    assert (without["discount"], without["trace"][0]["reason"]) == (0, "needs a coupon code")
    assert (await preview(bus, promotion_id, coupon_codes=("summer",)))["discount"] == 2000
    assert (await preview(bus, promotion_id, coupon_codes=("vip-1",)))["discount"] == 2000


async def test_a_preview_keeps_to_the_promotions_window(runner_shop) -> None:
    bus, _, clock, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20)
    await bus.handle(p.SchedulePromotion(promotion_id=promotion_id, starts_at=JULY, ends_at=AUGUST))
    assert (await preview(bus, promotion_id))["trace"][0]["reason"] == "not started yet"
    await bus.handle(p.SchedulePromotion(promotion_id=promotion_id, starts_at=clock.now() - timedelta(days=2),
                                         ends_at=clock.now() - timedelta(days=1)))
    assert (await preview(bus, promotion_id))["trace"][0]["reason"] == "ended"


async def test_a_preview_of_a_sku_without_a_price_in_the_currency_is_refused_naming_it(runner_shop) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20)
    with pytest.raises(InvalidInput, match=r"^NOPE-1 has no price in EUR$"):
        await preview(bus, promotion_id, lines=(("NOPE-1", 1),))
    with pytest.raises(InvalidInput, match=r"^RUN-1 has no price in USD$"):
        await bus.handle(p.PreviewPromotion(promotion_id=promotion_id, lines=(("RUN-1", 1),), currency="USD"))


@pytest.mark.parametrize(("rule", "context", "discount", "shipping_discount"), [
    ("when customer group vip then 10% off order", {"customer_groups": ("vip",)}, 1000, 0),
    ("when customer group vip then 10% off order", {}, 0, 0),
    ("when first order then 10% off order", {"first_order": True}, 1000, 0),
    ("when first order then 10% off order", {}, 0, 0),
    ("when always then free shipping", {"shipping": 490}, 0, 490),
])
async def test_a_preview_prices_for_the_shopper_and_the_shipping_it_is_given(
    runner_shop, rule, context, discount, shipping_discount,
) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, rule)
    previewed = await preview(bus, promotion_id, **context)
    assert (previewed["discount"], previewed["shipping_discount"]) == (discount, shipping_discount)


@pytest.fixture
async def tee(runner_shop):
    """TEE-1: red, size 42, in the Shirts category; 20.00, or 15.00 each from three."""
    bus, uow, *_ = runner_shop
    product_id = await bus.handle(CreateProduct(name="Tee", sku="TEE-1", price_amount=2000, currency="EUR",
                                                status="active", attributes={"colour": "red", "size": 42}))
    category_id = await bus.handle(AddCategory(name="Shirts"))
    await bus.handle(UpdateProduct(product_id=product_id, category_ids=[category_id]))
    async with uow() as tx:
        price_list = next(pl.id for pl in await tx.price_lists.for_skus(["TEE-1"]) if pl.currency == "EUR")
    await bus.handle(SetPrices(price_list_id=price_list, prices=[PriceSpec(sku="TEE-1", amount=2000,
                                                                           tiers=[(3, 1500)])]))
    return product_id, category_id


@pytest.mark.parametrize("selector", ["sku:TEE-1", "product:{product}", "category:{category}",
                                      "attribute:colour=red", "attribute:size=42"])
async def test_a_preview_selects_lines_by_the_products_catalog_facts_at_the_quantitys_price(
    runner_shop, tee, selector,
) -> None:
    bus, *_ = runner_shop
    product_id, category_id = tee
    chosen = selector.format(product=product_id, category=category_id)
    promotion_id = await create(bus, f"when quantity({chosen}) >= 1 then 10% off lines({chosen})")
    previewed = await preview(bus, promotion_id, lines=(("TEE-1", 3), ("RUN-1", 1)))
    assert previewed["lines"] == [
        {"sku": "TEE-1", "subtotal": 4500, "discount": 450, "total": 4050},
        {"sku": "RUN-1", "subtotal": 10000, "discount": 0, "total": 10000},
    ]


async def test_a_preview_prices_at_the_current_moment(runner_shop) -> None:
    bus, uow, clock, *_ = runner_shop
    async with uow() as tx:
        price_list = next(pl.id for pl in await tx.price_lists.for_skus(["RUN-1"]) if pl.currency == "EUR")
    await bus.handle(SetPrices(price_list_id=price_list, prices=[PriceSpec(
        sku="RUN-1", amount=10000, sale_amount=8000, sale_starts_at=clock.now() - timedelta(days=1),
        sale_ends_at=clock.now() + timedelta(days=1))]))
    promotion_id = await create(bus, RUNNERS_20)
    assert (await preview(bus, promotion_id))["subtotal"] == 8000  # on sale today


# -- limits as the cart sees them --------------------------------------------------------------------------------


async def _ordered(bus, owner: Owner, email: str) -> None:
    await bus.handle(cart.AddCartLine(owner=owner, sku="RUN-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, owner, email=email, provider="manual")
    await bus.handle(co.PlaceOrder(owner=owner, checkout_id=checkout_id))


async def _cart_discount(bus, owner: Owner = GUEST) -> int:
    await bus.handle(cart.AddCartLine(owner=owner, sku="RUN-1", quantity=1))
    return int((await bus.handle(cart.ViewCart(owner=owner))).discount)


async def test_a_budget_spent_to_the_cent_ends_the_promotion_in_that_currency(runner_shop) -> None:
    bus, *_ = runner_shop
    budgeted = await create(bus, RUNNERS_20, limits=Limits(budget={"EUR": 2000}))
    await bus.handle(p.PublishPromotion(promotion_id=budgeted))
    await _ordered(bus, Owner.guest("first"), "first@example.com")  # takes 20.00: the whole budget
    assert await _cart_discount(bus) == 0


async def test_an_unspent_budget_of_one_cent_still_gives_that_cent(runner_shop) -> None:
    bus, *_ = runner_shop
    await bus.handle(p.PublishPromotion(promotion_id=await create(bus, RUNNERS_20, limits=Limits(budget={"EUR": 1}))))
    assert await _cart_discount(bus) == 1


@pytest.mark.parametrize(("cap", "budget", "discount"), [
    (1000, 10000, 1000),  # the cap is below what the budget has left: the cap holds
    (2000, 500, 500),  # the budget has less left than the cap: what is left holds
])
async def test_a_promotion_never_gives_more_than_its_cap_or_what_its_budget_has_left(
    runner_shop, cap, budget, discount,
) -> None:
    bus, *_ = runner_shop
    view = await bus.handle(p.CreatePromotion(
        terms=p.TermsInput(name="Capped", rule=RUNNERS_20, max_discount_per_order=((cap, "EUR"), (9900, "USD"))),
        limits=Limits(budget={"EUR": budget}),
    ))
    await bus.handle(p.PublishPromotion(promotion_id=view["id"]))
    assert await _cart_discount(bus) == discount


@pytest.mark.parametrize("why", ["redeemed to its limit", "used up by this customer", "needs a code"])
async def test_a_promotion_that_cannot_apply_does_not_keep_the_next_one_from_applying(runner_shop, why) -> None:
    bus, *_ = runner_shop
    shopper = Owner.guest("shopper")
    if why == "redeemed to its limit":
        first = await create(bus, RUNNERS_20, name="First", limits=Limits(max_redemptions=1))
    elif why == "used up by this customer":
        registered = await bus.handle(RegisterCustomer(email="alice@example.com", password="correct horse 42",
                                                       name="Alice"))
        shopper = Owner.customer(registered.id)
        first = await create(bus, RUNNERS_20, name="First", limits=Limits(per_customer=1))
    else:
        first = await create(bus, RUNNERS_20, name="First", codes=("secret",))
    second = await create(bus, "when always then 10.00 EUR off order", name="Second")
    assert first < second  # the live promotions are looked at in this order
    for promotion_id in (first, second):
        await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    if why == "redeemed to its limit":
        await _ordered(bus, Owner.guest("earlier"), "earlier@example.com")
    elif why == "used up by this customer":
        await _ordered(bus, shopper, "alice@example.com")
    assert await _cart_discount(bus, shopper) == 1000  # the second promotion alone


async def test_a_registered_coupon_unlocks_a_promotion_whose_terms_name_another_code(runner_shop) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20, codes=("summer",))
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    await bus.handle(p.AddCoupons(promotion_id=promotion_id, codes=("VIP-1",)))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    await bus.handle(cart.ApplyCoupon(owner=GUEST, code="vip-1"))
    assert (await bus.handle(cart.ViewCart(owner=GUEST))).discount == 2000


async def test_a_code_of_a_promotion_whose_budget_is_spent_is_not_applicable(runner_shop) -> None:
    bus, *_ = runner_shop
    promotion_id = await create(bus, RUNNERS_20, codes=("budget",), limits=Limits(budget={"EUR": 2000}))
    await bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    first = Owner.guest("first")
    await bus.handle(cart.AddCartLine(owner=first, sku="RUN-1", quantity=1))
    await bus.handle(cart.ApplyCoupon(owner=first, code="budget"))
    checkout_id, paying = await ready_to_pay(bus, first, email="first@example.com")
    assert paying.totals["discount"] == 2000  # the whole budget
    await bus.handle(co.PlaceOrder(owner=first, checkout_id=checkout_id))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="RUN-1", quantity=1))
    await bus.handle(cart.ApplyCoupon(owner=GUEST, code="budget"))
    view = await bus.handle(cart.ViewCart(owner=GUEST))
    assert (view.discount, [(c.code, c.applied, c.reason) for c in view.coupons]) == (
        0, [("BUDGET", False, "not applicable")]
    )
