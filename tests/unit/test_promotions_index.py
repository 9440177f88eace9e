"""Carts are priced under the live promotions that could apply to them, looked up in an index kept with
the live promotions (``StoredPromotions``): a thousand that cannot apply change neither the price nor
what the engine is handed, and a promotion changed or withdrawn leaves the index when the shared version
moves. What the engine was handed is watched with ``RecordingPricing``, the real engine."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.memory.catalog_version import MemoryCatalogVersion
from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.carts import commands as cart
from application.catalog.categories import AddCategory
from application.catalog.commands import CreateProduct, UpdateProduct
from application.catalog.snapshot import CatalogSnapshot
from application.promotions import handlers as p
from application.promotions.engine import StoredPromotions
from application.promotions.ports import Limits
from domain.promotions.promotion import Promotion, PromotionTerms
from domain.promotions.text import parse
from tests.support.bus import build_bus
from tests.support.counting import HandClock, RecordingPricing
from tests.support.unit import GUEST, stock

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)

# Rules that cannot apply to a cart of RUN-1..3 (category "Shoes", red) in EUR on the web channel without
# the code it does not enter: each names something the cart lacks, in its condition, its terms or (outside
# an exclusive group) its actions.
INAPPLICABLE = (
    "when quantity(sku:OTHER-{n}) >= 1 then 10% off lines(sku:OTHER-{n})",
    "when quantity(product:other-{n}) >= 2 then 5.00 EUR off order",
    "when quantity(category:other-{n}) >= 1 then 10% off order",
    "when quantity(attribute:colour=green) >= 1 and customer group vip then 10% off order",
    "when channel = us then 10% off order",
    "when currency = USD then free shipping",
    "when subtotal >= 1.00 USD then 10% off order",
    "when coupon CODE-{n} then 10% off order",
    "when always then 10% off lines(sku:OTHER-{n})",
    "when always then buy 1 get 1 at 100% off lines(category:other-{n}) cheapest first",
    "when always then 10% off order",  # its terms need a code the cart does not have
)


class Shop:
    def __init__(self) -> None:
        db, ids, self.clock = MemoryDatabase(), SequentialIds(), FakeClock(NOW)

        def uow() -> MemoryUnitOfWork:
            return MemoryUnitOfWork(db, ids)

        self.uow = uow
        self.version, self.monotonic, self.pricing = MemoryCatalogVersion(), HandClock(10.0), RecordingPricing()
        self.promotions = StoredPromotions(
            uow, CatalogSnapshot(uow), version=self.version, ttl=0.5, monotonic=self.monotonic, engine=self.pricing
        )
        self.bus = build_bus(uow=uow, clock=self.clock, ids=ids, promotions=self.promotions)

    async def fill_cart(self) -> None:
        self.shoes = shoes = await self.bus.handle(AddCategory(name="Shoes"))
        for n in (1, 2, 3):
            product_id = await self.bus.handle(
                CreateProduct(
                    name=f"Runner {n}", sku=f"RUN-{n}", price_amount=5000 * n, currency="EUR", status="active"
                )
            )
            await self.bus.handle(
                UpdateProduct(product_id=product_id, category_ids=[shoes], attributes={"colour": "red"})
            )
            await stock(self.bus, f"RUN-{n}", 10)
            await self.bus.handle(cart.AddCartLine(owner=GUEST, sku=f"RUN-{n}", quantity=n))

    async def promotion(self, rule: str, *, codes: tuple[str, ...] = ()) -> str:
        view = await self.bus.handle(
            p.CreatePromotion(terms=p.TermsInput(name=rule[:40], rule=rule, coupon_codes=codes))
        )
        await self.bus.handle(p.PublishPromotion(promotion_id=view["id"]))
        return str(view["id"])

    async def view(self):
        return await self.bus.handle(cart.ViewCart(owner=GUEST))

    async def changed(self) -> None:
        """What a commit that saved a promotion does: the shared version moves."""
        await self.version.bump()


async def _noise(shop: Shop, count: int) -> None:
    """``count`` live promotions that cannot apply, written in one unit of work (one per command would
    copy the whole fake database each time)."""
    async with shop.uow() as tx:
        for n in range(count):
            rule = INAPPLICABLE[n % len(INAPPLICABLE)].format(n=n)
            codes = frozenset({f"NEEDED-{n}"}) if rule == INAPPLICABLE[-1] else frozenset()
            promotion = Promotion.create(
                id=f"noise-{n:04d}",
                now=NOW,
                terms=PromotionTerms(name=f"noise {n}", rule=parse(rule), coupon_codes=codes),
            )
            promotion.publish(now=NOW)
            await tx.promotions.add(promotion, Limits())
        await tx.commit()


async def test_a_cart_with_a_thousand_inapplicable_live_promotions_is_priced_as_with_none_of_them() -> None:
    shop = Shop()
    await shop.fill_cart()
    applicable = sorted(
        [
            await shop.promotion("when quantity(sku:RUN-1) >= 1 then 10% off lines(sku:RUN-1)"),
            await shop.promotion(f"when quantity(category:{shop.shoes}) >= 1 then free shipping"),
            await shop.promotion("when always then 5.00 EUR off order", codes=("WELCOME",)),
        ]
    )
    await shop.bus.handle(cart.ApplyCoupon(owner=GUEST, code="WELCOME"))
    await shop.changed()
    before = await shop.view()
    assert (before.subtotal, before.discount) == (70000, 1000)  # 10 % of RUN-1's 50.00, then 5.00 off
    assert shop.pricing.handed[-1] == applicable

    await _noise(shop, 1000)
    await shop.changed()
    after = await shop.view()
    assert after == before
    assert shop.pricing.handed[-1] == applicable  # the engine never saw the thousand


async def test_a_promotion_changed_or_archived_leaves_the_index_when_the_version_moves() -> None:
    shop = Shop()
    await shop.fill_cart()
    promotion_id = await shop.promotion("when quantity(sku:RUN-1) >= 1 then 10% off lines(sku:RUN-1)")
    await shop.changed()
    assert (await shop.view()).discount == 500
    assert shop.pricing.handed[-1] == [promotion_id]

    await shop.bus.handle(
        p.EditPromotion(
            promotion_id=promotion_id,
            terms=p.TermsInput(name="elsewhere", rule="when quantity(sku:RUN-9) >= 1 then 10% off lines(sku:RUN-9)"),
        )
    )
    await shop.bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    assert (await shop.view()).discount == 500  # kept: the version has not moved yet
    await shop.changed()
    asked = len(shop.pricing.handed)
    assert (await shop.view()).discount == 0
    assert len(shop.pricing.handed) == asked  # version 2 names a SKU the cart lacks: no candidate, nothing asked

    await shop.bus.handle(
        p.EditPromotion(
            promotion_id=promotion_id,
            terms=p.TermsInput(name="back", rule="when quantity(sku:RUN-2) >= 1 then 10% off lines(sku:RUN-2)"),
        )
    )
    await shop.bus.handle(p.PublishPromotion(promotion_id=promotion_id))
    await shop.changed()
    assert (await shop.view()).discount == 2000
    assert shop.pricing.handed[-1] == [promotion_id]

    asked = len(shop.pricing.handed)
    await shop.bus.handle(p.ArchivePromotion(promotion_id=promotion_id))
    await shop.changed()
    assert (await shop.view()).discount == 0
    assert len(shop.pricing.handed) == asked  # nothing is live: the engine is not even asked


async def test_the_promotion_of_an_entered_code_is_handed_on_to_say_why_it_gives_nothing() -> None:
    shop = Shop()
    await shop.fill_cart()
    await shop.promotion("when quantity(sku:OTHER) >= 1 then 10% off order", codes=("BIG",))
    await shop.bus.handle(cart.ApplyCoupon(owner=GUEST, code="BIG"))
    await shop.changed()
    view = await shop.view()
    assert [(c.code, c.reason) for c in view.coupons] == [("BIG", "conditions not met")]
    assert view.discount == 0
