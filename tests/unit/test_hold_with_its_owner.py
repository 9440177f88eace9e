"""A hold and what its owner writes with it (the checkout that pays with it) commit in one transaction,
or not at all — in a group of holds, one owner's refusal costs only its own hold."""

from __future__ import annotations

import asyncio

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.inventory import MemoryStockGate
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.inventory import commands as c
from application.inventory.api import reserve, sell
from application.inventory.batching import ReservationBatcher
from application.inventory.queries import stock_levels
from domain.inventory.reservation import SkuPolicy
from domain.shared.errors import ConcurrencyConflict
from tests.support.bus import build_bus


async def _five_tees():
    """A shop with 5 units of TEE on hand, its unit of work, clock, gate and a batcher of its own."""
    db, ids, clock, gate = MemoryDatabase(), SequentialIds(), FakeClock(), MemoryStockGate()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    bus = build_bus(uow=uow, clock=clock, ids=ids, gate=gate)
    await bus.handle(c.AddLocation(id="main", name="Main", priority=1))
    await bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    return uow, clock, gate, ReservationBatcher(uow, clock, ids)


async def test_each_hold_commits_with_its_owners_write_and_a_refused_owner_loses_only_its_hold() -> None:
    uow, _, gate, batcher = await _five_tees()
    seen: dict[str, str] = {}

    def owner(name: str, *, refuse: bool = False):
        async def then(tx, reservation_id: str) -> None:
            if refuse:
                raise ConcurrencyConflict(f"{name} changed since it was read")
            # The owner's own write (here a policy row named after it), staged in the hold's transaction.
            await tx.stock.set_policy(SkuPolicy(sku=f"OWNER-{name}", low_stock_threshold=1))
            seen[name] = reservation_id
        return then

    outcomes = await asyncio.gather(
        *(reserve(f"chk-{name}", [("TEE", 1)], gate=gate, batcher=batcher, uow=uow, reservation_ttl=600,
                  then=owner(name, refuse=name == "b"))
          for name in ("a", "b", "c")),
        return_exceptions=True,
    )
    assert [type(o).__name__ for o in outcomes] == ["str", "ConcurrencyConflict", "str"]
    assert seen == {"a": outcomes[0], "c": outcomes[2]}  # each owner wrote the id of the hold it got
    async with uow() as tx:
        policies = await tx.stock.policies(["OWNER-a", "OWNER-b", "OWNER-c"])
    assert sorted(policies) == ["OWNER-a", "OWNER-c"]  # b's write went with its hold: nowhere
    levels, _ = await stock_levels("TEE", uow=uow)
    assert [(i.on_hand, i.reserved) for i in levels] == [(5, 2)]  # two holds, not three
    assert gate.counters["TEE"] == 3  # b's unit went back to the gate too
    assert batcher.transactions == 4  # the group, rolled back for b's sake; then each alone


async def test_an_owner_writing_with_a_hold_already_sold_that_way_still_has_its_write_committed() -> None:
    """A repeated sale (a retried place whose units were sold already) closes nothing, but what its owner
    writes with it is committed all the same: the group has something to commit though no hold changed."""
    uow, clock, gate, batcher = await _five_tees()
    reservation_id = await reserve("chk-a", [("TEE", 1)], gate=gate, batcher=batcher, uow=uow, reservation_ttl=600)
    assert await sell(reservation_id, reclaim=False, batcher=batcher, uow=uow, gate=gate, clock=clock)

    async def then(tx, _reservation_id: str) -> None:
        await tx.stock.set_policy(SkuPolicy(sku="OWNER-a", low_stock_threshold=1))

    assert not await sell(reservation_id, reclaim=False, then=then, batcher=batcher, uow=uow, gate=gate, clock=clock)
    async with uow() as tx:
        assert sorted(await tx.stock.policies(["OWNER-a"])) == ["OWNER-a"]
    levels, _ = await stock_levels("TEE", uow=uow)
    assert [(i.on_hand, i.reserved, i.committed) for i in levels] == [(5, 0, 1)]  # sold once
