"""The PromotionRepository contract (``PromotionStoreContract``) on the fake and on PostgreSQL, with the coupon
race on real connections."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.postgres.engine import make_engine
from application.promotions.errors import CouponExhausted, PromotionExhausted
from application.promotions.ports import Coupon, Limits, Redemption
from domain.promotions.promotion import Promotion, PromotionTerms
from domain.promotions.text import parse, render
from tests.support.harness import MemoryHarness, PostgresHarness

NOW = datetime(2026, 6, 1, tzinfo=UTC)


async def published(store, unique: str, limits: Limits = Limits()) -> str:
    # Ends a day after NOW: live in these tests, never in other tests sharing the database.
    promotion = Promotion.create(id=f"promo-{unique}-{store.ids.new_id()}", now=NOW, ends_at=NOW + timedelta(days=1),
                                 terms=PromotionTerms(
        name="Ten off", rule=parse("when quantity(all) >= 1 then 10.00 EUR off order")))
    promotion.publish(now=NOW)
    async with store.uow()() as tx:
        await tx.promotions.add(promotion, limits)
        await tx.commit()
    return promotion.id


async def redeem(store, order_id: str, **kwargs) -> bool:
    try:
        async with store.uow()() as tx:
            await tx.promotions.redeem(order_id=order_id, **kwargs)
            await tx.commit()
        return True
    except (CouponExhausted, PromotionExhausted):
        return False


def render_rule(promotion: Promotion) -> str:
    return render(promotion.published.terms.rule)


class PromotionStoreContract:
    """What every PromotionRepository does alike. A subclass provides ``store``: units of work of its kind
    (``store.uow()``), whose ``promotions`` is the repository under test."""

    @pytest.fixture
    def store(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_round_trip_and_live_window(self, store, unique) -> None:
        promotion_id = await published(store, unique, Limits(max_redemptions=3, budget={"EUR": 5000}))
        async with store.uow()() as tx:
            promotion, limits = await tx.promotions.get(promotion_id)
            live = [p.id for p, _, _ in await tx.promotions.live(NOW)]
        assert (promotion.published.number, limits.max_redemptions, limits.budget) == (1, 3, {"EUR": 5000})
        assert promotion_id in live
        assert render_rule(promotion) == "when quantity(all) >= 1 then 10.00 EUR off order"

    async def test_a_single_use_code_raced_by_100_checkouts_redeems_once(self, store, unique) -> None:
        promotion_id = await published(store, unique)
        code = f"ONCE{unique}".upper()
        async with store.uow()() as tx:
            await tx.promotions.add_coupons([Coupon(code=code, promotion_id=promotion_id, usage_limit=1)])
            await tx.commit()
        results = await asyncio.gather(*(
            redeem(store, f"order-{unique}-{n}", customer_key=f"c{n}", coupon_codes=[code],
                   redemptions=[Redemption(promotion_id=promotion_id, version=1, amount=1000, currency="EUR")])
            for n in range(100)
        ))
        assert results.count(True) == 1
        async with store.uow()() as tx:
            assert (await tx.promotions.coupons([code]))[code].used == 1
            [(_, _, usage)] = [row for row in await tx.promotions.live(NOW) if row[0].id == promotion_id]
        assert (usage.redemptions, usage.spent) == (1, {"EUR": 1000})

    async def test_a_budget_is_never_overspent_under_a_race(self, store, unique) -> None:
        promotion_id = await published(store, unique, Limits(budget={"EUR": 10_000}, per_customer=1))
        results = await asyncio.gather(*(
            redeem(store, f"order-{unique}-{n}", customer_key=f"c{n % 20}", coupon_codes=[],
                   redemptions=[Redemption(promotion_id=promotion_id, version=1, amount=1000, currency="EUR")])
            for n in range(40)
        ))
        assert results.count(True) == 10  # €100 budget / €10 each; each customer at most once
        async with store.uow()() as tx:
            [(_, _, usage)] = [row for row in await tx.promotions.live(NOW) if row[0].id == promotion_id]
        assert usage.spent == {"EUR": 10_000}

    async def test_a_per_customer_limit_holds_under_parallel_requests(self, store, unique) -> None:
        promotion_id = await published(store, unique, Limits(per_customer=1))
        code = f"PER{unique}".upper()
        async with store.uow()() as tx:
            await tx.promotions.add_coupons([Coupon(code=code, promotion_id=promotion_id, usage_limit=None,
                                                    per_customer_limit=2)])
            await tx.commit()
        same_customer = await asyncio.gather(*(
            redeem(store, f"order-{unique}-same-{n}", customer_key="customer:ada", coupon_codes=[],
                   redemptions=[Redemption(promotion_id=promotion_id, version=1, amount=100, currency="EUR")])
            for n in range(20)
        ))
        assert same_customer.count(True) == 1
        coupon_uses = await asyncio.gather(*(
            redeem(store, f"order-{unique}-coupon-{n}", customer_key="customer:bob", coupon_codes=[code],
                   redemptions=[])
            for n in range(20)
        ))
        assert coupon_uses.count(True) == 2

    async def test_a_cancelled_order_gives_its_coupon_and_limits_back(self, store, unique) -> None:
        promotion_id = await published(store, unique, Limits(per_customer=1, max_redemptions=1, budget={"EUR": 1000}))
        code = f"BACK{unique}".upper()
        async with store.uow()() as tx:
            await tx.promotions.add_coupons([Coupon(code=code, promotion_id=promotion_id, usage_limit=1)])
            await tx.commit()
        taken = {"customer_key": "customer:ada", "coupon_codes": [code],
                 "redemptions": [Redemption(promotion_id=promotion_id, version=1, amount=1000, currency="EUR")]}
        assert await redeem(store, f"order-{unique}-1", **taken)
        assert not await redeem(store, f"order-{unique}-2", **taken)
        async with store.uow()() as tx:
            await tx.promotions.release(f"order-{unique}-1")
            await tx.promotions.release(f"order-{unique}-1")  # twice: given back once
            await tx.commit()
        assert await redeem(store, f"order-{unique}-3", **taken)
        async with store.uow()() as tx:
            assert (await tx.promotions.coupons([code]))[code].used == 1
            [(_, _, usage)] = [row for row in await tx.promotions.live(NOW) if row[0].id == promotion_id]
        assert (usage.redemptions, usage.spent) == (1, {"EUR": 1000})


    async def test_usage_is_read_for_the_promotions_asked_about(self, store, unique) -> None:
        counted = await published(store, unique, Limits(max_redemptions=5, budget={"EUR": 9000}))
        untouched = await published(store, unique, Limits(max_redemptions=5))
        assert await redeem(store, f"order-{unique}-usage", customer_key="guest:u", coupon_codes=[], redemptions=[
            Redemption(promotion_id=counted, version=1, amount=1200, currency="EUR")])
        async with store.uow()() as tx:
            usage = await tx.promotions.usage([counted, untouched, f"missing-{unique}"])
        assert {k: (u.redemptions, u.spent) for k, u in usage.items()} == {
            counted: (1, {"EUR": 1200}), untouched: (0, {}), f"missing-{unique}": (0, {})}

    async def test_the_next_change_is_the_next_start_or_end_of_a_published_promotion(self, store, unique) -> None:
        # Far from every other test's promotions, and a moment of its own (microseconds drawn at random).
        base = datetime(2400, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(1_000_000),
                                                            microseconds=random.randrange(1_000_000))
        start, end = base + timedelta(hours=1), base + timedelta(hours=2)
        promotion_id = await published(store, unique)
        draft = Promotion.create(id=f"draft-{unique}", now=NOW, starts_at=base + timedelta(minutes=30),
                                 terms=PromotionTerms(name="Draft", rule=parse("when always then 1% off order")))
        async with store.uow()() as tx:
            promotion, limits = await tx.promotions.get(promotion_id)
            promotion.schedule(starts_at=start, ends_at=end, now=NOW)
            await tx.promotions.save(promotion, limits)
            await tx.promotions.add(draft, Limits())
            await tx.commit()
        async with store.uow()() as tx:
            assert await tx.promotions.next_change(base) == start  # the draft's start counts for nothing
            assert await tx.promotions.next_change(start) == end
            assert await tx.promotions.next_change(start - timedelta(microseconds=1)) == start
            after_end = await tx.promotions.next_change(end)
        assert after_end is None or after_end > end

    async def test_a_revised_promotion_is_live_as_revised_at_the_next_read(self, store, unique) -> None:
        """Live promotions may be kept parsed between reads (the PostgreSQL store does, by their stored
        text): a new published version must still be what the next read gives."""
        promotion_id = await published(store, unique)
        async with store.uow()() as tx:
            [before] = [p for p, _, _ in await tx.promotions.live(NOW) if p.id == promotion_id]
            promotion, limits = await tx.promotions.get(promotion_id)
            promotion.edit(PromotionTerms(name="Twenty off", rule=parse(
                "when quantity(all) >= 1 then 20.00 EUR off order")), now=NOW)
            promotion.publish(now=NOW)
            await tx.promotions.save(promotion, limits)
            await tx.commit()
        async with store.uow()() as tx:
            [after] = [p for p, _, _ in await tx.promotions.live(NOW) if p.id == promotion_id]
        assert render_rule(before) == "when quantity(all) >= 1 then 10.00 EUR off order"
        assert render_rule(after) == "when quantity(all) >= 1 then 20.00 EUR off order"
        assert after.published.number == 2


class TestMemoryPromotionStore(PromotionStoreContract):
    @pytest.fixture
    def store(self) -> MemoryHarness:
        return MemoryHarness()


class TestPostgresPromotionStore(PromotionStoreContract):
    @pytest.fixture
    async def store(self, database_url) -> AsyncIterator[PostgresHarness]:
        engine = make_engine(database_url, pool_size=40, max_overflow=0, pool_timeout=60)
        yield PostgresHarness(engine)
        await engine.dispose()

    async def test_an_unchanged_live_promotion_is_parsed_once_per_process(self, store, unique) -> None:
        promotion_id = await published(store, unique)
        reads = []
        for _ in range(2):
            async with store.uow()() as tx:
                reads.append([p for p, _, _ in await tx.promotions.live(NOW) if p.id == promotion_id])
        assert reads[0][0] is reads[1][0]  # the same parsed promotion: its rule text was not parsed again
