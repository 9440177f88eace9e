"""Real parallelism on PostgreSQL: many connections reserving the same units at once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

from adapters.postgres.engine import make_engine
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.redis.client import make_redis
from adapters.redis.stock_gate import RedisStockGate
from adapters.system.clock import SystemClock, UuidIdGenerator
from application.inventory import commands as c
from application.inventory.ports import GateAnswer
from domain.inventory.errors import OutOfStock
from tests.support.bus import build_bus

pytestmark = pytest.mark.slow


class OpenGate:
    """A gate that knows nothing: every buyer goes to PostgreSQL (the hardest case for it)."""

    async def try_take(self, requested: dict[str, int]) -> GateAnswer:
        return GateAnswer(unknown=sorted(requested))

    async def try_take_many(self, requests: list[dict[str, int]]) -> list[GateAnswer]:
        return [await self.try_take(requested) for requested in requests]

    async def short(self, requested: dict[str, int]) -> list[str]:
        return []

    async def give_back(self, units: dict[str, int]) -> None:
        return None

    async def refill(self, available: dict[str, int | None], *, only_missing: bool = False) -> None:
        return None


@pytest.fixture
async def wide_engine(database_url):
    engine = make_engine(database_url, pool_size=50, max_overflow=0, pool_timeout=60)
    yield engine
    await engine.dispose()


def bus_on(engine, gate):
    ids = UuidIdGenerator()
    return build_bus(uow=lambda: PostgresUnitOfWork(engine, ids), clock=SystemClock(), ids=ids, gate=gate)


def app_processes(engine, gate, count: int = 25):
    """One bus per API process: each groups its own buyers into its own transactions, so the
    groups of different processes race on PostgreSQL at once, each on its own connection."""
    return [bus_on(engine, gate) for _ in range(count)]


async def peak_connections_on(engine, work) -> tuple[object, int]:
    """Run ``work`` while counting how many backends at most were busy in a statement or a
    transaction at the same moment."""
    peak = 0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal peak
        async with engine.connect() as conn:
            while not done.is_set():
                busy = await conn.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state IN ('active', 'idle in transaction') AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend'"
                ))
                peak = max(peak, int(busy))
                await conn.rollback()
                await asyncio.sleep(0.001)

    watcher = asyncio.create_task(watch())
    try:
        result = await work
    finally:
        done.set()
        await watcher
    return result, peak


async def stock_and_ledger(bus, engine, sku: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(on hand, reserved, committed) from the balance rows, and from the fold of the ledger."""
    async with engine.connect() as conn:
        balance = (await conn.execute(
            text("SELECT sum(on_hand), sum(reserved), sum(committed) FROM stock_items WHERE sku=:s"), {"s": sku}
        )).one()
        ledger = (await conn.execute(
            text("SELECT sum(on_hand_delta), sum(reserved_delta), sum(committed_delta) FROM stock_movements"
                 " WHERE sku=:s"), {"s": sku}
        )).one()
    return tuple(int(v) for v in balance), tuple(int(v) for v in ledger)  # type: ignore[return-value]


async def attempt(bus, reference: str, lines: list[tuple[str, int]]) -> str:
    try:
        await bus.handle(c.ReserveStock(reference=reference, lines=lines))
        return "reserved"
    except OutOfStock:
        return "sold_out"


@pytest.mark.parametrize("gate_kind", ["postgres-only", "redis-gate"])
async def test_300_buyers_race_for_50_units_and_exactly_50_win(wide_engine, redis_url, unique, gate_kind) -> None:
    redis = make_redis(redis_url)
    gate = OpenGate() if gate_kind == "postgres-only" else RedisStockGate(redis, prefix=f"test:{unique}:gate:")
    processes = app_processes(wide_engine, gate)
    bus = processes[0]
    sku, location = f"HOT-{unique}", f"wh-{unique}"
    await bus.handle(c.AddLocation(id=location, name="Warehouse"))
    await bus.handle(c.ReceiveStock(sku=sku, location_id=location, quantity=50, actor="ops"))

    race = asyncio.gather(*(attempt(processes[n % len(processes)], f"{unique}-{n}", [(sku, 1)]) for n in range(300)))
    results, peak = await peak_connections_on(wide_engine, race)
    await redis.aclose()
    assert Counter(results) == {"reserved": 50, "sold_out": 250}
    if gate_kind == "postgres-only":
        assert peak >= 5  # many transactions were in flight on their own connections at once
    balance, ledger = await stock_and_ledger(bus, wide_engine, sku)
    assert balance == ledger == (50, 50, 0)  # available = 0, and the ledger folds to the balance


async def test_multi_line_carts_in_opposite_orders_never_deadlock_or_oversell(wide_engine, unique) -> None:
    processes = app_processes(wide_engine, OpenGate())
    bus = processes[0]
    location = f"wh-{unique}"
    a, b = f"A-{unique}", f"B-{unique}"
    await bus.handle(c.AddLocation(id=location, name="Warehouse"))
    for sku in (a, b):
        await bus.handle(c.ReceiveStock(sku=sku, location_id=location, quantity=30, actor="ops"))

    carts = [[(a, 1), (b, 1)] if n % 2 else [(b, 1), (a, 1)] for n in range(120)]
    race = asyncio.gather(
        *(attempt(processes[n % len(processes)], f"{unique}-{n}", cart) for n, cart in enumerate(carts))
    )
    results, peak = await peak_connections_on(wide_engine, race)
    assert Counter(results) == {"reserved": 30, "sold_out": 90}  # any deadlock would have raised instead
    assert peak >= 5
    for sku in (a, b):
        balance, ledger = await stock_and_ledger(bus, wide_engine, sku)
        assert balance == ledger == (30, 30, 0)


async def test_commit_and_release_racing_on_one_reservation_close_it_once(wide_engine, unique) -> None:
    bus = bus_on(wide_engine, OpenGate())
    sku, location = f"R-{unique}", f"wh-{unique}"
    await bus.handle(c.AddLocation(id=location, name="Warehouse"))
    await bus.handle(c.ReceiveStock(sku=sku, location_id=location, quantity=5, actor="ops"))
    rid = await bus.handle(c.ReserveStock(reference=str(uuid.uuid4()), lines=[(sku, 2)]))

    async def close(command):
        try:
            return await bus.handle(command)
        except Exception as error:
            return type(error).__name__

    results = await asyncio.gather(
        *(close(c.CommitReservation(reservation_id=rid) if n % 2 else c.ReleaseReservation(reservation_id=rid))
          for n in range(20))
    )
    assert results.count(True) == 1  # exactly one call closed it
    balance, ledger = await stock_and_ledger(bus, wide_engine, sku)
    assert balance == ledger
    assert balance in {(5, 0, 2), (5, 0, 0)}  # sold (committed until shipped) or freed, never both
