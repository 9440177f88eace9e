"""The StockGate contract (``StockGateContract``) on the in-memory fake and on Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.memory.inventory import MemoryStockGate
from adapters.redis.client import make_redis
from adapters.redis.stock_gate import RedisStockGate
from tests.support.http_app import make_container, settings_for


class StockGateContract:
    """What every StockGate does alike. A subclass provides ``gate``: an empty gate of its kind."""

    @pytest.fixture
    def gate(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_unknown_skus_pass_through_and_are_not_counted(self, gate) -> None:
        answer = await gate.try_take({"A": 1})
        assert (answer.sold_out, answer.taken, answer.unknown) == ([], {}, ["A"])
        await gate.give_back({"A": 5})  # no counter: nothing to give back to
        assert (await gate.try_take({"A": 1})).unknown == ["A"]

    async def test_a_multi_sku_take_is_all_or_nothing(self, gate) -> None:
        await gate.refill({"A": 2, "B": 1})
        assert (await gate.try_take({"A": 1, "B": 2})).sold_out == ["B"]
        answer = await gate.try_take({"A": 2, "B": 1, "C": 1})
        assert (answer.taken, answer.unknown) == ({"A": 2, "B": 1}, ["C"])
        assert (await gate.try_take({"A": 1})).sold_out == ["A"]
        await gate.give_back({"A": 1})
        assert (await gate.try_take({"A": 1})).taken == {"A": 1}

    async def test_refill_only_missing_never_overwrites_a_live_counter_and_none_ungates(self, gate) -> None:
        await gate.refill({"A": 1})
        await gate.refill({"A": 100, "B": 3}, only_missing=True)
        assert (await gate.try_take({"A": 2})).sold_out == ["A"]
        assert (await gate.try_take({"B": 3})).taken == {"B": 3}
        await gate.refill({"A": None})
        assert (await gate.try_take({"A": 50})).unknown == ["A"]

    async def test_short_names_the_skus_a_take_would_refuse_and_takes_nothing(self, gate) -> None:
        await gate.refill({"A": 2, "B": 0})
        assert await gate.short({"A": 2, "B": 1, "C": 9}) == ["B"]  # C has no counter: not short
        assert await gate.short({"A": 3}) == ["A"]
        assert await gate.short({}) == []
        assert (await gate.try_take({"A": 2})).taken == {"A": 2}  # short() took nothing

    async def test_concurrent_takes_never_hand_out_more_than_the_counter(self, gate) -> None:
        await gate.refill({"HOT": 10})
        answers = await asyncio.gather(*(gate.try_take({"HOT": 1}) for _ in range(50)))
        assert sum(1 for a in answers if a.taken) == 10
        assert sum(1 for a in answers if a.sold_out) == 40

    async def test_many_takes_in_one_call_are_answered_in_order(self, gate) -> None:
        await gate.refill({"A": 3, "B": 1})
        answers = await gate.try_take_many([{"A": 2}, {"A": 2}, {"A": 1, "B": 1}, {"B": 1, "C": 1}, {"C": 4}])
        assert [(a.taken, a.sold_out, a.unknown) for a in answers] == [
            ({"A": 2}, [], []),
            ({}, ["A"], []),  # only one A left
            ({"A": 1, "B": 1}, [], []),
            ({}, ["B"], []),  # all or nothing: B is short, so nothing is taken
            ({}, [], ["C"]),
        ]
        assert (await gate.try_take({"A": 1})).sold_out == ["A"]
        assert await gate.try_take_many([]) == []


class TestMemoryStockGate(StockGateContract):
    @pytest.fixture
    def gate(self) -> MemoryStockGate:
        return MemoryStockGate()


class TestRedisStockGate(StockGateContract):
    @pytest.fixture
    async def gate(self, redis_url, unique) -> AsyncIterator[RedisStockGate]:
        redis = make_redis(redis_url)
        yield RedisStockGate(redis, prefix=f"test:{unique}:gate:")
        keys = [k async for k in redis.scan_iter(match=f"test:{unique}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_two_shops_on_one_redis_count_their_own_stock(database_url, redis_url, unique) -> None:
    """The gate the container wires lives under EMPORIUM_REDIS_KEY_PREFIX: two shops sharing a Redis
    (or a test and a benchmark) never take from each other's counters."""
    prefixes = (f"test:{unique}:shop-a:", f"test:{unique}:shop-b:")
    containers = [make_container(settings_for(database_url, redis_url, redis_key_prefix=p)) for p in prefixes]
    first, second = (c.stock_gate() for c in containers)
    try:
        await first.refill({"SNEAKER": 1})
        await second.refill({"SNEAKER": 5})
        assert (await first.try_take({"SNEAKER": 2})).sold_out == ["SNEAKER"]
        assert (await second.try_take({"SNEAKER": 2})).taken == {"SNEAKER": 2}
        assert (await first.try_take({"SNEAKER": 1})).taken == {"SNEAKER": 1}
        assert (await second.try_take({"SNEAKER": 3})).taken == {"SNEAKER": 3}
        redis = containers[0].redis()
        keys = sorted([k.decode() async for k in redis.scan_iter(match=f"test:{unique}:*")])
        assert keys == [f"{prefixes[0]}gate:SNEAKER", f"{prefixes[1]}gate:SNEAKER"]
        await redis.delete(*keys)
    finally:
        for container in containers:
            await container.redis().aclose()
