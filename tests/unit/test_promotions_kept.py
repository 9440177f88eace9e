"""The live promotions kept per process (``StoredPromotions(ttl=…)``): a guest's cart read with no coupon
reads none of them while they are kept; a promotion saved anywhere or coupons added (the shared version
moves), a promotion starting or ending, or ``max_age`` passing reads them again; ``ttl`` passing reads
only the usage of the promotions with a redemption limit or a budget; what only one shopper's cart needs
is always read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.memory.catalog_version import MemoryCatalogVersion
from application.carts import commands as cart
from application.carts.ports import Adjustment, PromotionLine, PromotionRequest
from application.catalog.categories import AddCategory
from application.catalog.commands import CreateProduct, UpdateProduct
from application.catalog.snapshot import CatalogSnapshot
from application.checkout import commands as co
from application.customers.handlers import RegisterCustomer
from application.promotions import handlers as p
from application.promotions.engine import StoredPromotions
from application.promotions.ports import Limits, Redemption
from domain.carts.cart import Owner
from domain.customers.customer import Customer
from tests.support.counting import CountingUow, HandClock
from tests.support.unit import build_shop, ready_to_pay, stock

RULE = "when quantity(all) >= 1 then 20% off lines(all)"


async def _world():
    bus, uow, clock, *_ = build_shop()
    product_id = await bus.handle(CreateProduct(name="Runner", sku="RUN-1", price_amount=10000, currency="EUR",
                                                status="active"))
    return bus, uow, clock, product_id


def _request(product_id: str, at, *, customer: str | None = None, codes: tuple[str, ...] = ()) -> PromotionRequest:
    return PromotionRequest(cart_id="c", currency="EUR", channel="web", customer_id=customer, coupon_codes=codes,
                            lines=(PromotionLine(line_id="l1", sku="RUN-1", product_id=product_id, quantity=1,
                                                 unit_price=10000),), at=at)


async def _publish(bus) -> str:
    view = await bus.handle(p.CreatePromotion(terms=p.TermsInput(name="20 %", rule=RULE), limits=Limits()))
    await bus.handle(p.PublishPromotion(promotion_id=view["id"]))
    return str(view["id"])


async def test_a_guest_cart_without_coupons_reads_no_promotion_while_they_are_kept() -> None:
    bus, uow, clock, product_id = await _world()
    await _publish(bus)
    reads, version, ticking = CountingUow(uow), MemoryCatalogVersion(), HandClock(10.0)
    engine = StoredPromotions(reads, CatalogSnapshot(uow), version=version, ttl=0.5, monotonic=ticking)
    first = await engine.apply(_request(product_id, clock.now()))
    second = await engine.apply(_request(product_id, clock.now()))
    assert sum(a.amount for a in first.adjustments) == sum(a.amount for a in second.adjustments) == 2000
    assert reads.opened == 1


async def test_a_promotion_saved_anywhere_shows_at_once_and_only_max_age_reads_them_all_again() -> None:
    bus, uow, clock, product_id = await _world()
    reads, version, ticking = CountingUow(uow), MemoryCatalogVersion(), HandClock(10.0)
    engine = StoredPromotions(reads, CatalogSnapshot(uow), version=version, ttl=0.5, max_age=60, monotonic=ticking)
    assert (await engine.apply(_request(product_id, clock.now()))).adjustments == ()
    await _publish(bus)
    assert (await engine.apply(_request(product_id, clock.now()))).adjustments == ()  # kept, no bump yet
    await version.bump()  # what the commit of the promotion does (CatalogSnapshot.concerns its topics)
    assert sum(a.amount for a in (await engine.apply(_request(product_id, clock.now()))).adjustments) == 2000
    opened = reads.opened
    ticking.now += 59.9  # the ttl passed many times: no promotion has a limit, nothing is read
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 2000
    assert reads.opened == opened
    ticking.now += 0.1
    await engine.apply(_request(product_id, clock.now()))
    assert reads.opened == opened + 1


async def test_the_usage_of_a_limited_promotion_is_read_again_after_the_ttl_and_it_stops_when_used_up() -> None:
    bus, uow, clock, product_id = await _world()
    await _promotion(bus, "when always then 10% off order", name="Once", limits=Limits(max_redemptions=1))
    reads, ticking = CountingUow(uow), HandClock(10.0)
    engine = StoredPromotions(reads, CatalogSnapshot(uow), version=MemoryCatalogVersion(), ttl=0.5,
                              monotonic=ticking)
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 1000
    async with uow() as tx:  # an order elsewhere redeems it
        live = await tx.promotions.live(clock.now())
        await tx.promotions.redeem(order_id="o-1", customer_key="guest:x", coupon_codes=[], redemptions=[
            Redemption(promotion_id=live[0][0].id, version=1, amount=1000, currency="EUR")])
        await tx.commit()
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 1000  # within the ttl
    opened = reads.opened
    ticking.now += 0.5
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 0
    assert reads.opened == opened + 1  # the usage alone
    ticking.now += 0.4
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 0  # the usage read is kept
    assert reads.opened == opened + 1
    ticking.now += 0.1
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 0
    assert reads.opened == opened + 2


async def test_a_scheduled_promotion_starts_and_ends_on_time_without_a_bump() -> None:
    bus, uow, clock, product_id = await _world()
    promotion_id = await _promotion(bus, "when always then 10% off order")
    await bus.handle(p.SchedulePromotion(promotion_id=promotion_id, starts_at=clock.now() + timedelta(hours=1),
                                         ends_at=clock.now() + timedelta(hours=2)))
    reads, version = CountingUow(uow), MemoryCatalogVersion()
    engine = StoredPromotions(reads, CatalogSnapshot(uow), version=version, ttl=0.5, monotonic=HandClock(10.0))
    start, end = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=2)
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 0
    assert _discount(await engine.apply(_request(product_id, start - timedelta(microseconds=1)))) == 0
    assert reads.opened == 1  # kept until the start
    assert _discount(await engine.apply(_request(product_id, start))) == 1000
    assert _discount(await engine.apply(_request(product_id, end - timedelta(microseconds=1)))) == 1000
    assert reads.opened == 2  # kept until the end
    assert _discount(await engine.apply(_request(product_id, end))) == 0
    assert _discount(await engine.apply(_request(product_id, start))) == 1000  # a moment before the kept read
    assert reads.opened == 4


async def test_coupons_added_to_a_live_promotion_move_the_shared_version_and_gate_it_at_once() -> None:
    shop = build_shop()
    bus, uow, clock = shop.bus, shop.uow, shop.clock
    product_id = await bus.handle(CreateProduct(name="Runner", sku="RUN-1", price_amount=10000, currency="EUR",
                                                status="active"))
    promotion_id = await _promotion(bus, "when always then 10% off order")
    version = MemoryCatalogVersion()
    engine = StoredPromotions(uow, CatalogSnapshot(uow), version=version, ttl=0.5, monotonic=HandClock(10.0))
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 1000
    async with shop.outbox.claim(10_000):
        pass  # what was written before: published
    await bus.handle(p.AddCoupons(promotion_id=promotion_id, codes=("VIP",)))
    async with shop.outbox.claim(10_000) as messages:
        topics = [m.topic for m in messages]
    assert topics == ["promotions.coupons_added.v1"]
    [added] = messages
    assert (added.aggregate_id, added.aggregate_version, added.occurred_at, added.payload["count"]) == (
        promotion_id, 2, clock.now(), 1)
    assert CatalogSnapshot.concerns(topics)
    await version.bump()  # what that commit does
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 0
    assert _discount(await engine.apply(_request(product_id, clock.now(), codes=("VIP",)))) == 1000


async def test_a_shopper_with_a_coupon_or_an_account_still_reads_what_is_theirs_and_ttl_zero_keeps_nothing() -> None:
    bus, uow, clock, product_id = await _world()
    await _publish(bus)
    reads = CountingUow(uow)
    engine = StoredPromotions(reads, CatalogSnapshot(uow), version=MemoryCatalogVersion(), ttl=0.5,
                              monotonic=HandClock(10.0))
    await engine.apply(_request(product_id, clock.now()))
    await engine.apply(_request(product_id, clock.now(), codes=("NOPE",)))
    await engine.apply(_request(product_id, clock.now(), customer="cust-1"))
    assert reads.opened == 3  # the live list once, then each shopper's own reads
    every_time = CountingUow(uow)
    plain = StoredPromotions(every_time, CatalogSnapshot(uow))
    await plain.apply(_request(product_id, clock.now()))
    await plain.apply(_request(product_id, clock.now()))
    assert every_time.opened == 2


# -- what the engine hands the pricing: the shopper, the cart's lines as the catalog knows them, the codes ----------


async def _promotion(bus, rule: str, *, name: str = "Promo", codes: tuple[str, ...] = (), publish: bool = True,
                     limits: Limits | None = None) -> str:
    view = await bus.handle(p.CreatePromotion(terms=p.TermsInput(name=name, rule=rule, coupon_codes=codes),
                                              limits=limits or Limits()))
    if publish:
        await bus.handle(p.PublishPromotion(promotion_id=view["id"]))
    return str(view["id"])


def _discount(outcome) -> int:
    return sum(a.amount for a in outcome.adjustments)


async def test_an_unknown_code_is_rejected_even_on_an_empty_cart() -> None:
    _, uow, clock, _ = await _world()
    engine = StoredPromotions(uow)
    request = PromotionRequest(cart_id="c", currency="EUR", channel="web", customer_id=None, coupon_codes=("NOPE",),
                               lines=(), at=clock.now())
    assert (await engine.apply(request)).rejected_coupons == {"NOPE": "unknown coupon"}


async def test_a_valid_code_that_did_not_apply_says_why_or_that_its_promotion_is_not_live() -> None:
    bus, uow, clock, product_id = await _world()
    await _promotion(bus, "when always then 5.00 EUR off order", name="Everyone")
    await _promotion(bus, "when subtotal >= 500.00 EUR then 10% off order", codes=("BIG",))
    draft = await _promotion(bus, RULE, publish=False)
    await bus.handle(p.AddCoupons(promotion_id=draft, codes=("EARLY",)))
    outcome = await StoredPromotions(uow).apply(_request(product_id, clock.now(), codes=("BIG", "EARLY")))
    assert outcome.rejected_coupons == {"BIG": "conditions not met", "EARLY": "not applicable"}
    assert _discount(outcome) == 500


@pytest.mark.parametrize("with_catalog", [False, True])
@pytest.mark.parametrize("selector", ["sku:RUN-1", "product:{product}", "category:{category}",
                                      "attribute:colour=red", "attribute:size=42"])
async def test_lines_are_selected_by_the_products_catalog_facts_with_or_without_the_catalog_snapshot(
    with_catalog, selector,
) -> None:
    bus, uow, clock, product_id = await _world()
    category_id = await bus.handle(AddCategory(name="Shoes"))
    await bus.handle(UpdateProduct(product_id=product_id, category_ids=[category_id],
                                   attributes={"colour": "red", "size": 42}))
    chosen = selector.format(product=product_id, category=category_id)
    await _promotion(bus, f"when quantity({chosen}) >= 1 then 10% off lines({chosen})")
    engine = StoredPromotions(uow, CatalogSnapshot(uow)) if with_catalog else StoredPromotions(uow)
    outcome = await engine.apply(_request(product_id, clock.now()))
    assert [(a.line_id, a.amount) for a in outcome.adjustments] == [("l1", 1000)]


async def test_free_shipping_is_an_adjustment_of_no_line_labelled_with_the_promotions_name() -> None:
    bus, uow, clock, product_id = await _world()
    promotion_id = await _promotion(bus, "when always then free shipping", name="Ships free")
    request = replace(_request(product_id, clock.now()), shipping=490)
    outcome = await StoredPromotions(uow).apply(request)
    assert outcome.shipping_adjustments == (
        Adjustment(promotion_id=promotion_id, version=1, label="Ships free", amount=490, line_id=None),
    )


async def test_a_channel_rule_applies_in_that_channel_only() -> None:
    bus, uow, clock, product_id = await _world()
    await _promotion(bus, "when channel = web then 10% off order")
    engine = StoredPromotions(uow)
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 1000
    assert _discount(await engine.apply(replace(_request(product_id, clock.now()), channel="us"))) == 0


async def test_a_customer_group_rule_applies_to_that_groups_customers_only() -> None:
    bus, uow, clock, product_id = await _world()
    await _promotion(bus, "when customer group vip then 10% off order")
    async with uow() as tx:
        vip = Customer.register(customer_id="cust-vip", email="vip@example.com", name="Vip", password_hash="x",
                                now=clock.now())
        vip.groups = frozenset({"vip"})
        await tx.customers.add(vip)
        await tx.commit()
    engine = StoredPromotions(uow)
    assert _discount(await engine.apply(_request(product_id, clock.now(), customer="cust-vip"))) == 1000
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 0  # a guest is in no group
    assert _discount(await engine.apply(_request(product_id, clock.now(), customer="cust-gone"))) == 0


async def test_a_first_order_rule_applies_to_a_customer_without_orders_only() -> None:
    bus, uow, clock, product_id = await _world()
    await stock(bus, "RUN-1", 5)
    await _promotion(bus, "when first order then 10% off order")
    alice = Owner.customer((await bus.handle(RegisterCustomer(email="alice@example.com", password="correct horse 42",
                                                              name="Alice"))).id)
    engine = StoredPromotions(uow)
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 0  # a guest: not known to be new
    assert _discount(await engine.apply(_request(product_id, clock.now(), customer=alice.id))) == 1000
    await bus.handle(cart.AddCartLine(owner=alice, sku="RUN-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, alice, email="alice@example.com")
    await bus.handle(co.PlaceOrder(owner=alice, checkout_id=checkout_id))
    assert _discount(await engine.apply(_request(product_id, clock.now(), customer=alice.id))) == 0


async def test_without_a_ttl_or_without_a_shared_version_the_live_promotions_are_read_every_time() -> None:
    bus, uow, clock, product_id = await _world()
    await _publish(bus)
    for engine_of in (
        lambda reads: StoredPromotions(reads, CatalogSnapshot(uow), version=MemoryCatalogVersion()),
        lambda reads: StoredPromotions(reads, CatalogSnapshot(uow), ttl=0.5),
    ):
        reads = CountingUow(uow)
        engine = engine_of(reads)
        for _ in range(2):
            assert _discount(await engine.apply(_request(product_id, clock.now()))) == 2000
        assert reads.opened == 2


class CountingVersion(MemoryCatalogVersion):
    """The shared version, counting how often it is read (each read a round trip to Redis)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def current(self) -> int | None:
        self.reads += 1
        return await super().current()


async def test_with_a_ttl_of_zero_the_shared_version_is_never_read() -> None:
    bus, uow, clock, product_id = await _world()
    await _publish(bus)
    version = CountingVersion()
    engine = StoredPromotions(uow, CatalogSnapshot(uow), version=version, ttl=0)
    assert _discount(await engine.apply(_request(product_id, clock.now()))) == 2000
    assert version.reads == 0
    kept = StoredPromotions(uow, CatalogSnapshot(uow), version=version, ttl=0.5)
    await kept.apply(_request(product_id, clock.now()))
    assert version.reads == 1


async def test_each_line_is_matched_by_its_own_products_categories_and_attributes_read_after_read() -> None:
    bus, uow, clock, product_id = await _world()
    shoes = await bus.handle(AddCategory(name="Shoes"))
    await bus.handle(UpdateProduct(product_id=product_id, category_ids=[shoes], attributes={"colour": "red"}))
    other_id = await bus.handle(CreateProduct(name="Sock", sku="SOCK-1", price_amount=500, currency="EUR",
                                              status="active"))
    await bus.handle(UpdateProduct(product_id=other_id, attributes={"colour": "blue"}))
    await _promotion(bus, f"when quantity(category:{shoes}) >= 1 then 10% off lines(category:{shoes})")
    await _promotion(bus, "when quantity(attribute:colour=blue) >= 1 then 1.00 EUR off lines(attribute:colour=blue)")
    engine = StoredPromotions(uow, CatalogSnapshot(uow))
    request = replace(_request(product_id, clock.now()), lines=(
        PromotionLine(line_id="l1", sku="RUN-1", product_id=product_id, quantity=1, unit_price=10000),
        PromotionLine(line_id="l2", sku="SOCK-1", product_id=other_id, quantity=1, unit_price=500),
    ))
    for _ in range(2):  # the second read from what the first worked out
        outcome = await engine.apply(request)
        assert sorted((a.line_id, a.amount) for a in outcome.adjustments) == [("l1", 1000), ("l2", 100)]
