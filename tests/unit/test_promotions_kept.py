"""The live promotions kept a moment per process (``StoredPromotions(ttl=…)``): a guest's cart read with
no coupon reads none of them while they are kept; a promotion saved anywhere (the shared version moves)
or the time running out reads them again; what only one shopper's cart needs is always read."""

from __future__ import annotations

from adapters.memory.catalog_version import MemoryCatalogVersion
from application.carts.ports import PromotionLine, PromotionRequest
from application.catalog.commands import CreateProduct
from application.catalog.snapshot import CatalogSnapshot
from application.promotions import handlers as p
from application.promotions.engine import StoredPromotions
from application.promotions.ports import Limits
from tests.support.counting import CountingUow, HandClock
from tests.support.unit import build_shop

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


async def test_a_promotion_saved_anywhere_shows_at_once_and_age_reads_them_again() -> None:
    bus, uow, clock, product_id = await _world()
    reads, version, ticking = CountingUow(uow), MemoryCatalogVersion(), HandClock(10.0)
    engine = StoredPromotions(reads, CatalogSnapshot(uow), version=version, ttl=0.5, monotonic=ticking)
    assert (await engine.apply(_request(product_id, clock.now()))).adjustments == ()
    await _publish(bus)
    assert (await engine.apply(_request(product_id, clock.now()))).adjustments == ()  # kept, no bump yet
    await version.bump()  # what the commit of the promotion does (CatalogSnapshot.concerns its topics)
    assert sum(a.amount for a in (await engine.apply(_request(product_id, clock.now()))).adjustments) == 2000
    opened = reads.opened
    ticking.now += 0.5
    await engine.apply(_request(product_id, clock.now()))
    assert reads.opened == opened + 1


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
