"""Random sequences of inventory operations keep every invariant — on the fakes, and on PostgreSQL
run in lockstep with the fakes (the same commands, the same outcomes, the same balances)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.inventory import MemoryStockGate
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from adapters.postgres.engine import make_engine
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from application.inventory import commands as c
from domain.inventory.reservation import ReservationStatus
from domain.inventory.stock import fold
from domain.shared.errors import DomainError
from tests.support.bus import build_bus
from tests.support.database import database_url_for_tests

SKUS = ["A", "B", "C"]
LOCATIONS = ["near", "far"]


class InventoryMachine(RuleBasedStateMachine):
    """Drives the fakes; subclasses mirror every command onto other adapters."""

    reservations = Bundle("reservations")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.prefix = uuid.uuid4().hex[:8]
        self.clock = FakeClock()
        self.db = MemoryDatabase()
        ids = SequentialIds(self.prefix)
        self.bus = build_bus(
            uow=lambda: MemoryUnitOfWork(self.db, ids), clock=self.clock, ids=SequentialIds(self.prefix),
            gate=MemoryStockGate(),
        )
        self.run_everywhere(c.AddLocation(id=self.loc("near"), name="near", priority=1))
        self.run_everywhere(c.AddLocation(id=self.loc("far"), name="far", priority=2))

    def sku(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def loc(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    async def _outcome(self, bus, command) -> object:
        try:
            return await bus.handle(command)
        except DomainError as error:
            return type(error).__name__

    def run_everywhere(self, command) -> object:
        return self.loop.run_until_complete(self._outcome(self.bus, command))

    @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS), quantity=st.integers(1, 5))
    def receive(self, sku, location, quantity) -> None:
        self.run_everywhere(c.ReceiveStock(sku=self.sku(sku), location_id=self.loc(location), quantity=quantity,
                                           actor="prop"))

    @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS), delta=st.integers(-4, 4).filter(bool))
    def adjust(self, sku, location, delta) -> None:
        self.run_everywhere(c.AdjustStock(sku=self.sku(sku), location_id=self.loc(location), delta=delta,
                                          reason="count", actor="prop"))

    @rule(target=reservations, lines=st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), min_size=1,
                                              max_size=3), ttl=st.integers(1, 120))
    def reserve(self, lines, ttl) -> object:
        outcome = self.run_everywhere(
            c.ReserveStock(reference=uuid.uuid4().hex, lines=[(self.sku(s), q) for s, q in lines], ttl_seconds=ttl)
        )
        return outcome if isinstance(outcome, str) and outcome.startswith(self.prefix) else "none"

    @rule(reservation=reservations, seconds=st.integers(1, 120))
    def extend(self, reservation, seconds) -> None:
        if reservation != "none":
            self.run_everywhere(c.ExtendReservation(reservation_id=reservation, seconds=seconds))

    @rule(reservation=reservations)
    def commit(self, reservation) -> None:
        if reservation != "none":
            self.run_everywhere(c.CommitReservation(reservation_id=reservation))

    @rule(reservation=reservations)
    def commit_late(self, reservation) -> None:  # a payment that arrived after the hold lapsed
        if reservation != "none":
            self.run_everywhere(c.CommitReservation(reservation_id=reservation, reclaim=True))

    @rule(reservation=reservations)
    def release(self, reservation) -> None:
        if reservation != "none":
            self.run_everywhere(c.ReleaseReservation(reservation_id=reservation))

    @rule(reservation=reservations)
    def ship(self, reservation) -> None:
        if reservation != "none":
            self.run_everywhere(c.ShipReservation(reservation_id=reservation, actor="prop"))

    @rule(reservation=reservations)
    def give_back(self, reservation) -> None:  # an order cancelled, or sent back after shipping
        if reservation != "none":
            self.run_everywhere(c.ReturnReservation(reservation_id=reservation, actor="prop"))

    @rule(seconds=st.integers(1, 90))
    def advance_clock(self, seconds) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    @rule()
    def expire(self) -> None:
        self.run_everywhere(c.Reconcile())

    @invariant()
    def balances_are_sound_and_equal_the_ledger(self) -> None:
        inventory = self.db.inventory
        for (sku, location), b in inventory.items.items():
            assert b.reserved >= 0
            assert b.committed >= 0
            assert b.reserved + b.committed <= b.on_hand
            moves = [m for m in inventory.ledger if (m.sku, m.location_id) == (sku, location)]
            assert fold(moves) == (b.on_hand, b.reserved, b.committed)

    def _units(self, status: ReservationStatus) -> dict[tuple[str, str], int]:
        units: dict[tuple[str, str], int] = {}
        for reservation in self.db.inventory.reservations.values():
            if reservation.status is status:
                for line in reservation.held_lines:
                    key = (line.sku, line.location_id)
                    units[key] = units.get(key, 0) + line.quantity
        return units

    @invariant()
    def reserved_and_committed_units_are_exactly_the_open_holds_and_unshipped_sales(self) -> None:
        held, sold = self._units(ReservationStatus.ACTIVE), self._units(ReservationStatus.COMMITTED)
        for key, b in self.db.inventory.items.items():
            assert b.reserved == held.get(key, 0)
            assert b.committed == sold.get(key, 0)

    @invariant()
    def each_step_of_a_reservation_happens_at_most_once_per_line(self) -> None:
        # A line is sold once, shipped once, lapses once and comes back once; it may be held twice
        # (placed, then re-taken after lapsing) and released twice (a freed hold, a cancelled sale).
        limits = {"reserved": 2, "committed": 1, "shipped": 1, "returned": 1, "expired": 1, "released": 2}
        counts = Counter(
            (m.reference, m.kind.value, m.sku, m.location_id) for m in self.db.inventory.ledger
            if m.kind.value in limits
        )
        assert all(n <= limits[kind] for (_, kind, _, _), n in counts.items()), counts

    def teardown(self) -> None:
        self.loop.close()


class InventoryOnPostgres(InventoryMachine):
    """The same commands on PostgreSQL in lockstep: same outcomes, same balances."""

    def __init__(self) -> None:
        self.engine = None
        self.steps_on_postgres = 0
        super().__init__()

    def run_everywhere(self, command) -> object:
        if self.engine is None:
            self.engine = make_engine(database_url_for_tests(), pool_size=2, max_overflow=0)
            ids = SequentialIds(self.prefix)
            self.pg_bus = build_bus(
                uow=lambda: PostgresUnitOfWork(self.engine, ids), clock=self.clock, ids=SequentialIds(self.prefix),
                gate=MemoryStockGate(),
            )
        fake = super().run_everywhere(command)
        real = self.loop.run_until_complete(self._outcome(self.pg_bus, command))
        assert type(real) is type(fake), (command, fake, real)
        if not hasattr(fake, "drift"):  # a reconciliation run differs only in its id
            assert real == fake, (command, fake, real)
        self.steps_on_postgres += 1
        return fake

    @invariant()
    def postgres_balances_equal_the_fakes(self) -> None:
        if self.engine is None:
            return

        async def levels():
            async with PostgresUnitOfWork(self.engine, SequentialIds())as tx:
                return {
                    (i.sku, i.location_id): (i.on_hand, i.reserved, i.committed)
                    for name in SKUS for i in await tx.stock.levels(self.sku(name))
                }

        expected = {k: (b.on_hand, b.reserved, b.committed) for k, b in self.db.inventory.items.items()}
        assert self.loop.run_until_complete(levels()) == expected

    def teardown(self) -> None:
        assert self.steps_on_postgres >= 2  # at least the two locations went through PostgreSQL
        if self.engine is not None:
            self.loop.run_until_complete(self.engine.dispose())
        super().teardown()


TestInventoryOnFakes = InventoryMachine.TestCase
TestInventoryOnFakes.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

TestInventoryOnPostgres = pytest.mark.usefixtures("database_url")(InventoryOnPostgres.TestCase)
TestInventoryOnPostgres.settings = settings(
    max_examples=20, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
