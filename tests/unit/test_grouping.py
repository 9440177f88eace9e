"""Group commit: concurrent callers share round trips, each still gets its own answer."""

from __future__ import annotations

import asyncio

import pytest

from adapters.memory.inventory import MemoryStockGate
from application.inventory.gate_cache import GroupedGate
from application.messaging.grouping import Grouped
from tests.support.waiting import within


async def test_callers_arriving_during_a_round_trip_share_the_next_one() -> None:
    seen: list[list[int]] = []

    async def settle(numbers: list[int]) -> list[int | BaseException]:
        seen.append(numbers)
        await asyncio.sleep(0.01)  # the round trip
        return [n * 10 for n in numbers]

    grouped: Grouped[int, int] = Grouped(settle, max_group=3)
    first = asyncio.create_task(grouped.submit(0))
    await asyncio.sleep(0)  # the first caller's group is on its way alone
    rest = await asyncio.gather(*(grouped.submit(n) for n in range(1, 6)))
    assert [await first, *rest] == [0, 10, 20, 30, 40, 50]
    assert seen == [[0], [1, 2, 3], [4, 5]]  # at most max_group per round trip, in arrival order
    assert grouped.groups == 3


async def test_a_per_request_error_reaches_only_its_caller() -> None:
    async def settle(numbers: list[int]) -> list[int | BaseException]:
        return [ValueError(f"odd {n}") if n % 2 else n for n in numbers]

    grouped: Grouped[int, int] = Grouped(settle)
    outcomes = await asyncio.gather(*(grouped.submit(n) for n in range(4)), return_exceptions=True)
    assert [o if isinstance(o, int) else str(o) for o in outcomes] == [0, "odd 1", 2, "odd 3"]
    assert grouped.groups == 1


async def test_a_failed_round_trip_is_retried_one_request_at_a_time_to_isolate_the_culprit() -> None:
    async def settle(numbers: list[int]) -> list[int | BaseException]:
        if 13 in numbers:
            raise ValueError("13 is a duplicate")
        return numbers

    grouped: Grouped[int, int] = Grouped(settle, isolate=lambda error: isinstance(error, ValueError))
    outcomes = await asyncio.gather(*(grouped.submit(n) for n in (11, 12, 13)), return_exceptions=True)
    assert outcomes[:2] == [11, 12]
    assert isinstance(outcomes[2], ValueError)
    assert grouped.groups == 4  # the group, then each alone


async def test_a_failure_that_is_nobodys_fault_reaches_every_caller_at_once() -> None:
    async def settle(numbers: list[int]) -> list[int | BaseException]:
        raise ConnectionError("the round trip failed")

    grouped: Grouped[int, int] = Grouped(settle, isolate=lambda error: isinstance(error, ValueError))
    outcomes = await asyncio.gather(*(grouped.submit(n) for n in range(3)), return_exceptions=True)
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    assert grouped.groups == 1


async def test_callers_of_a_group_cancelled_in_flight_are_not_left_waiting() -> None:
    async def settle(numbers: list[int]) -> list[int | BaseException]:
        raise asyncio.CancelledError  # the process shutting down mid round trip

    grouped: Grouped[int, int] = Grouped(settle, max_group=1)  # two callers still queued behind the first
    outcomes = await within(  # the bound only turns a hang (callers left waiting) into a failure
        asyncio.gather(*(grouped.submit(n) for n in range(3)), return_exceptions=True),
        what="every caller of the cancelled group to be answered",
    )
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    assert grouped.groups == 1


async def test_a_caller_who_goes_away_does_not_break_the_group() -> None:
    release = asyncio.Event()

    async def settle(numbers: list[int]) -> list[int | BaseException]:
        await release.wait()
        return numbers

    grouped: Grouped[int, int] = Grouped(settle)
    leaving = asyncio.create_task(grouped.submit(1))
    staying = asyncio.create_task(grouped.submit(2))
    await asyncio.sleep(0)
    leaving.cancel()
    release.set()
    assert await staying == 2
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_the_grouped_gate_hands_out_exactly_the_counter_in_few_round_trips() -> None:
    inner = MemoryStockGate()
    gate = GroupedGate(inner)
    await gate.refill({"HOT": 10})
    answers = await asyncio.gather(*(gate.try_take({"HOT": 1}) for _ in range(50)))
    assert sum(1 for a in answers if a.taken) == 10
    assert sum(1 for a in answers if a.sold_out) == 40
    assert all(a.taken for a in answers[:10])  # first come, first served
    assert gate.round_trips <= 2
    await gate.give_back({"HOT": 2})
    assert inner.counters == {"HOT": 2}


async def test_the_sold_out_memory_answers_what_it_knows_and_asks_the_gate_once_for_the_rest() -> None:
    from application.inventory.gate_cache import SoldOutMemory

    class Counting(MemoryStockGate):
        calls = 0

        async def try_take_many(self, requests):
            Counting.calls += 1
            return await super().try_take_many(requests)

    inner = Counting()
    clock = [0.0]
    memory = SoldOutMemory(inner, ttl=1.0, monotonic=lambda: clock[0])
    await memory.refill({"HOT": 1, "COLD": 5})
    assert (await memory.try_take({"HOT": 2})).sold_out == ["HOT"]  # now remembered for 2+ units
    answers = await memory.try_take_many([{"HOT": 3}, {"HOT": 1}, {"COLD": 2}, {"HOT": 1}])
    assert [(a.taken, a.sold_out) for a in answers] == [
        ({}, ["HOT"]),
        ({"HOT": 1}, []),
        ({"COLD": 2}, []),
        ({}, ["HOT"]),
    ]
    assert Counting.calls == 2  # the single take, then one call for the three it did not know
    clock[0] = 2.0
    assert (await memory.try_take({"HOT": 1})).sold_out == ["HOT"]
    assert Counting.calls == 3  # the memory had expired: the gate was asked again


async def test_the_sold_out_memory_covers_exactly_the_quantity_refused_and_forgets_exactly_at_its_ttl() -> None:
    from application.inventory.gate_cache import SoldOutMemory

    inner = MemoryStockGate()
    clock = [10.0]
    memory = SoldOutMemory(inner, ttl=0.25, monotonic=lambda: clock[0])
    await memory.refill({"HOT": 2})
    assert (await memory.try_take({"HOT": 3})).sold_out == ["HOT"]  # short for 3 or more, until 10.25
    await inner.refill({"HOT": 10})  # a restock the memory has not heard of
    clock[0] = 10.2
    assert (await memory.try_take({"HOT": 3})).sold_out == ["HOT"]  # the very quantity refused: from memory
    assert (await memory.try_take({"HOT": 2})).taken == {"HOT": 2}  # fewer: the gate is asked
    clock[0] = 10.25
    assert (await memory.try_take({"HOT": 3})).taken == {"HOT": 3}  # the memory ends exactly at its ttl


async def test_the_grouped_gate_takes_at_most_256_requests_per_round_trip() -> None:
    inner = MemoryStockGate()
    gate = GroupedGate(inner)
    await gate.refill({"HOT": 1000})
    answers = await asyncio.gather(*(gate.try_take({"HOT": 1}) for _ in range(257)))
    assert all(a.taken == {"HOT": 1} for a in answers)
    assert gate.round_trips == 2  # 256, then 1
    assert inner.counters == {"HOT": 1000 - 257}


async def test_the_grouped_gate_passes_a_batch_of_takes_straight_through() -> None:
    inner = MemoryStockGate()
    gate = GroupedGate(inner)
    await gate.refill({"HOT": 3})
    answers = await gate.try_take_many([{"HOT": 2}, {"HOT": 2}, {"COLD": 1}])
    assert [(a.taken, a.sold_out, a.unknown) for a in answers] == [
        ({"HOT": 2}, [], []), ({}, ["HOT"], []), ({}, [], ["COLD"]),
    ]
    assert await gate.short({"HOT": 2, "COLD": 9}) == ["HOT"]


@pytest.mark.parametrize("layer", ["grouped", "sold-out memory"])
async def test_a_refill_overwrites_a_counter_unless_told_to_fill_only_missing_ones(layer) -> None:
    from application.inventory.gate_cache import SoldOutMemory

    inner = MemoryStockGate()
    gate = GroupedGate(inner) if layer == "grouped" else SoldOutMemory(inner)
    await gate.refill({"HOT": 10})
    await gate.refill({"HOT": 3, "NEW": 4}, only_missing=True)
    assert inner.counters == {"HOT": 10, "NEW": 4}  # a live counter is never overwritten then
    await gate.refill({"HOT": 3})
    assert inner.counters == {"HOT": 3, "NEW": 4}


async def test_the_sold_out_memory_keeps_a_refusal_a_quarter_of_a_second_by_default() -> None:
    from application.inventory.gate_cache import SoldOutMemory

    inner = MemoryStockGate()
    clock = [50.0]
    memory = SoldOutMemory(inner, monotonic=lambda: clock[0])
    await memory.refill({"HOT": 1})
    assert (await memory.try_take({"HOT": 2})).sold_out == ["HOT"]
    await inner.refill({"HOT": 10})  # a restock the memory has not heard of
    clock[0] = 50.24
    assert (await memory.try_take({"HOT": 2})).sold_out == ["HOT"]
    clock[0] = 50.25
    assert (await memory.try_take({"HOT": 2})).taken == {"HOT": 2}


@pytest.mark.parametrize("news", ["refill", "give back"])
async def test_the_sold_out_memory_forgets_a_sku_the_moment_its_counter_is_refilled_or_given_back(news) -> None:
    from application.inventory.gate_cache import SoldOutMemory

    inner = MemoryStockGate()
    clock = [10.0]
    memory = SoldOutMemory(inner, ttl=60.0, monotonic=lambda: clock[0])
    await memory.refill({"HOT": 1, "COLD": 5})
    assert (await memory.try_take({"HOT": 2})).sold_out == ["HOT"]
    if news == "refill":
        await memory.refill({"HOT": 2})
    else:
        await memory.give_back({"HOT": 1})
    assert (await memory.try_take({"HOT": 2})).taken == {"HOT": 2}


async def test_the_sold_out_memory_answers_what_it_knows_in_a_batch_even_after_a_restock_it_has_not_heard_of() -> None:
    from application.inventory.gate_cache import SoldOutMemory

    inner = MemoryStockGate()
    clock = [10.0]
    memory = SoldOutMemory(inner, ttl=1.0, monotonic=lambda: clock[0])
    await memory.refill({"HOT": 1})
    assert (await memory.try_take({"HOT": 3})).sold_out == ["HOT"]
    await inner.refill({"HOT": 10})
    answers = await memory.try_take_many([{"HOT": 3}, {"HOT": 1}])
    assert [(a.taken, a.sold_out) for a in answers] == [({}, ["HOT"]), ({"HOT": 1}, [])]


async def test_the_sold_out_memory_remembers_the_smallest_quantity_refused_in_one_batch() -> None:
    from application.inventory.gate_cache import SoldOutMemory

    inner = MemoryStockGate()
    clock = [10.0]
    memory = SoldOutMemory(inner, ttl=1.0, monotonic=lambda: clock[0])
    await memory.refill({"HOT": 1})
    answers = await memory.try_take_many([{"HOT": 2}, {"HOT": 5}])  # both refused by the gate itself
    assert [a.sold_out for a in answers] == [["HOT"], ["HOT"]]
    await inner.refill({"HOT": 10})  # a restock the memory has not heard of
    assert (await memory.try_take({"HOT": 3})).sold_out == ["HOT"]  # 3 >= 2, the smaller of the two: remembered
    assert (await memory.try_take({"HOT": 1})).taken == {"HOT": 1}


async def test_the_sold_out_memory_answers_and_remembers_short_skus_without_taking_anything() -> None:
    from application.inventory.gate_cache import SoldOutMemory

    inner = MemoryStockGate()
    clock = [10.0]
    memory = SoldOutMemory(inner, ttl=1.0, monotonic=lambda: clock[0])
    await memory.refill({"HOT": 2, "COLD": 5})
    assert await memory.short({"HOT": 3, "COLD": 1}) == ["HOT"]
    assert await memory.short({"COLD": 1}) == []
    await inner.refill({"HOT": 10})  # a restock the memory has not heard of
    assert await memory.short({"HOT": 3}) == ["HOT"]  # remembered
    assert await memory.short({"HOT": 2}) == []  # fewer than refused: the gate is asked
    assert inner.counters == {"HOT": 10, "COLD": 5}


class DropsAnAnswer(MemoryStockGate):
    """A broken gate: answers one request fewer than it was asked."""

    async def try_take_many(self, requests):
        return (await super().try_take_many(requests))[:-1]


async def test_the_sold_out_memory_refuses_a_batch_answer_that_leaves_a_request_unanswered() -> None:
    from application.inventory.gate_cache import SoldOutMemory

    memory = SoldOutMemory(DropsAnAnswer())
    with pytest.raises(ValueError, match="zip"):
        await memory.try_take_many([{"HOT": 1}, {"COLD": 1}])
