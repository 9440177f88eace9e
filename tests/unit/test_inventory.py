"""Inventory rules through the bus with in-memory fakes."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.inventory import MemoryStockGate
from adapters.memory.outbox import MemoryOutboxStore
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.inventory import commands as c
from application.inventory.handlers import project_availabilities, project_availability
from application.inventory.ports import GateAnswer
from application.inventory.queries import (
    availability_of,
    inventory_gauges,
    reservations_in_flight,
    stock_levels,
    stock_movements,
)
from application.inventory.read_models import Availability
from domain.inventory.errors import (
    InsufficientStock,
    InventoryError,
    OutOfStock,
    ReservationClosed,
    ReservationNotFound,
    UnknownLocation,
)
from domain.inventory.reservation import BACKORDER, Reservation, SkuPolicy, availability_status
from domain.inventory.stock import MovementKind, StockChanged, StockItem, fold
from domain.shared.errors import Conflict
from tests.support.bus import build_bus
from tests.support.unit import tracked_skus


class World:
    def __init__(self) -> None:
        self.db = db = MemoryDatabase()
        self.ids = SequentialIds()
        self.clock = FakeClock()
        self.gate = MemoryStockGate()
        self.uow = lambda: MemoryUnitOfWork(db, self.ids)
        self.outbox = MemoryOutboxStore(db)
        self.bus = build_bus(uow=self.uow, clock=self.clock, ids=self.ids, gate=self.gate, reservation_ttl=600)

    async def balance(self, sku: str, location: str = "main") -> tuple[int, int, int]:
        """(on hand, reserved, committed)"""
        levels, _ = await stock_levels(sku, uow=self.uow)
        [item] = [i for i in levels if i.location_id == location]
        return item.on_hand, item.reserved, item.committed

    async def ledger(self, sku: str, location: str = "main") -> tuple[int, int, int]:
        """The balance the movements imply, every movement of the SKU at the location."""
        movements = await stock_movements(sku, uow=self.uow, limit=10_000)
        return fold([m for m in movements if m.location_id == location])

    async def reservation(self, reservation_id: str) -> Reservation:
        async with self.uow() as tx:
            return await tx.reservations.get(reservation_id)


@pytest.fixture
async def world() -> World:
    w = World()
    await w.bus.handle(c.AddLocation(id="main", name="Main warehouse", priority=1))
    await w.bus.handle(c.AddLocation(id="store", name="Shop floor", priority=2))
    return w


async def test_receiving_stock_writes_balance_and_ledger_together(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=10, actor="ops", reference="PO-1"))
    assert await world.balance("TEE") == (10, 0, 0) == await world.ledger("TEE")
    [movement] = await stock_movements("TEE", uow=world.uow)
    assert (movement.kind, movement.actor, movement.reference) == (MovementKind.RECEIVED, "ops", "PO-1")
    assert world.gate.counters["TEE"] == 10


async def test_receiving_into_an_unknown_location_is_refused(world) -> None:
    with pytest.raises(UnknownLocation):
        await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="moon", quantity=1, actor="ops"))
    assert await tracked_skus(world.uow) == []


@pytest.mark.parametrize("quantity", [0, -3])
async def test_quantities_must_be_positive(world, quantity) -> None:
    with pytest.raises(InventoryError):
        await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=quantity, actor="ops"))
    with pytest.raises(InventoryError):
        await world.bus.handle(c.ReserveStock(reference="chk", lines=[("TEE", quantity)]))


async def test_an_adjustment_needs_a_reason_and_cannot_go_below_reserved(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    with pytest.raises(InventoryError):
        await world.bus.handle(c.AdjustStock(sku="TEE", location_id="main", delta=-1, reason=" ", actor="ops"))
    await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 4)]))
    with pytest.raises(InsufficientStock):
        await world.bus.handle(c.AdjustStock(sku="TEE", location_id="main", delta=-2, reason="damaged", actor="ops"))
    await world.bus.handle(c.AdjustStock(sku="TEE", location_id="main", delta=-1, reason="damaged", actor="ops"))
    assert await world.balance("TEE") == (4, 4, 0) == await world.ledger("TEE")


async def test_reservation_draws_on_locations_by_priority_and_is_all_or_nothing(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=2, actor="ops"))
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="store", quantity=5, actor="ops"))
    await world.bus.handle(c.ReceiveStock(sku="CAP", location_id="main", quantity=1, actor="ops"))
    reservation_id = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 3), ("CAP", 1)]))
    assert await world.balance("TEE", "main") == (2, 2, 0)
    assert await world.balance("TEE", "store") == (5, 1, 0)
    with pytest.raises(OutOfStock) as refused:
        await world.bus.handle(c.ReserveStock(reference="chk-2", lines=[("TEE", 1), ("CAP", 1)]))
    assert refused.value.skus == ["CAP"]
    assert await world.balance("TEE", "store") == (5, 1, 0)  # nothing of the failed cart was held
    [held] = await reservations_in_flight(uow=world.uow)
    assert held.id == reservation_id


async def test_a_checkout_holds_at_most_one_active_reservation(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 1)]))
    with pytest.raises(Conflict, match=r"^checkout chk-1 already holds an active reservation$"):
        await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 1)]))
    assert await world.balance("TEE") == (5, 1, 0)


async def test_commit_sells_the_units_exactly_once_and_they_stay_on_hand_until_shipped(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    rid = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 2)]))
    assert await world.bus.handle(c.CommitReservation(reservation_id=rid)) is True
    assert await world.bus.handle(c.CommitReservation(reservation_id=rid)) is False  # replayed webhook
    assert await world.balance("TEE") == (5, 0, 2) == await world.ledger("TEE")
    with pytest.raises(ReservationClosed):
        await world.bus.handle(c.ReleaseReservation(reservation_id=rid))
    assert await world.balance("TEE") == (5, 0, 2)


async def test_shipping_takes_committed_units_out_of_on_hand_once(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    rid = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 2)]))
    await world.bus.handle(c.CommitReservation(reservation_id=rid))
    # A stock count between payment and shipment sees the paid units still on the shelf.
    await world.bus.handle(c.AdjustStock(sku="TEE", location_id="main", delta=-1, reason="count", actor="ops"))
    assert await world.balance("TEE") == (4, 0, 2)
    with pytest.raises(InsufficientStock):  # a count cannot take away units that are sold
        await world.bus.handle(c.AdjustStock(sku="TEE", location_id="main", delta=-3, reason="count", actor="ops"))
    assert await world.bus.handle(c.ShipReservation(reservation_id=rid, actor="packer")) is True
    assert await world.bus.handle(c.ShipReservation(reservation_id=rid, actor="packer")) is False  # redelivered
    assert await world.balance("TEE") == (2, 0, 0) == await world.ledger("TEE")
    assert (await world.reservation(rid)).status.value == "shipped"
    assert [m.kind.value for m in await stock_movements("TEE", uow=world.uow)][:2] == ["shipped", "adjusted"]
    assert await world.bus.handle(c.CommitReservation(reservation_id=rid)) is False
    with pytest.raises(ReservationClosed):
        await world.bus.handle(c.ReleaseReservation(reservation_id=rid))


async def test_a_cancelled_paid_order_puts_its_units_back_on_sale_and_a_return_back_on_the_shelf(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    cancelled = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 2)]))
    returned = await world.bus.handle(c.ReserveStock(reference="chk-2", lines=[("TEE", 1)]))
    for rid in (cancelled, returned):
        await world.bus.handle(c.CommitReservation(reservation_id=rid))
    await world.bus.handle(c.ShipReservation(reservation_id=returned, actor="packer"))
    assert await world.balance("TEE") == (4, 0, 2)
    assert world.gate.counters["TEE"] == 2

    assert await world.bus.handle(c.ReturnReservation(reservation_id=cancelled, actor="staff")) is True
    assert await world.bus.handle(c.ReturnReservation(reservation_id=cancelled, actor="staff")) is False
    assert await world.balance("TEE") == (4, 0, 0)
    with pytest.raises(ReservationClosed):  # nothing left to ship
        await world.bus.handle(c.ShipReservation(reservation_id=cancelled, actor="packer"))
    assert await world.bus.handle(c.ReturnReservation(reservation_id=returned, actor="staff")) is True
    assert await world.balance("TEE") == (5, 0, 0) == await world.ledger("TEE")
    assert world.gate.counters["TEE"] == 5
    assert {(await world.reservation(r)).status.value for r in (cancelled, returned)} == {"returned"}


async def test_shipping_a_hold_that_was_never_committed_commits_it_first_or_re_takes_it(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=3, actor="ops"))
    held = await world.bus.handle(c.ReserveStock(reference="chk-0", lines=[("TEE", 1)]))
    assert await world.bus.handle(c.ShipReservation(reservation_id=held, actor="packer")) is True
    assert await world.balance("TEE") == (2, 0, 0) == await world.ledger("TEE")

    first = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 1)], ttl_seconds=60))
    second = await world.bus.handle(c.ReserveStock(reference="chk-2", lines=[("TEE", 1)], ttl_seconds=60))
    world.clock.advance(timedelta(seconds=61))
    await world.bus.handle(c.Reconcile())  # both holds lapse before anyone committed them
    assert await world.bus.handle(c.ShipReservation(reservation_id=first, actor="packer")) is True
    assert await world.balance("TEE") == (1, 0, 0) == await world.ledger("TEE")
    assert world.gate.counters["TEE"] == 1  # the re-taken unit is off sale in the gate too
    await world.bus.handle(c.ReserveStock(reference="chk-3", lines=[("TEE", 1)]))
    with pytest.raises(OutOfStock):  # the other lapsed hold's unit was sold meanwhile
        await world.bus.handle(c.ShipReservation(reservation_id=second, actor="packer"))
    assert await world.balance("TEE") == (1, 1, 0) == await world.ledger("TEE")


async def test_release_frees_the_units_once_and_refuses_a_later_commit(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    rid = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 2)]))
    assert await world.bus.handle(c.ReleaseReservation(reservation_id=rid)) is True
    assert await world.bus.handle(c.ReleaseReservation(reservation_id=rid)) is False
    with pytest.raises(ReservationClosed):
        await world.bus.handle(c.CommitReservation(reservation_id=rid))
    assert await world.balance("TEE") == (5, 0, 0) == await world.ledger("TEE")
    assert world.gate.counters["TEE"] == 5


async def test_expiry_returns_units_and_extension_postpones_it(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=3, actor="ops"))
    short = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 1)], ttl_seconds=60))
    extended = await world.bus.handle(c.ReserveStock(reference="chk-2", lines=[("TEE", 1)], ttl_seconds=60))
    world.clock.advance(timedelta(seconds=30))
    await world.bus.handle(c.ExtendReservation(reservation_id=extended, seconds=600))
    world.clock.advance(timedelta(seconds=31))
    run = await world.bus.handle(c.Reconcile())
    assert run.expired == 1
    assert run.drift == []
    assert await world.balance("TEE") == (3, 1, 0)
    assert (await world.reservation(short)).status.value == "expired"
    with pytest.raises(ReservationClosed):
        await world.bus.handle(c.CommitReservation(reservation_id=short))
    with pytest.raises(ReservationClosed):
        await world.bus.handle(c.ExtendReservation(reservation_id=short, seconds=60))
    assert await world.bus.handle(c.CommitReservation(reservation_id=extended)) is True
    assert (await world.bus.handle(c.Reconcile())).expired == 0


async def test_transfer_moves_units_between_locations(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=4, actor="ops"))
    await world.bus.handle(
        c.TransferStock(sku="TEE", from_location="main", to_location="store", quantity=3, actor="ops")
    )
    assert await world.balance("TEE", "main") == (1, 0, 0)
    assert await world.balance("TEE", "store") == (3, 0, 0)
    with pytest.raises(InsufficientStock):
        await world.bus.handle(
            c.TransferStock(sku="TEE", from_location="main", to_location="store", quantity=2, actor="ops")
        )
    levels, _ = await stock_levels("TEE", uow=world.uow)
    assert [(i.location_id, i.on_hand) for i in levels] == [("main", 1), ("store", 3)]


async def test_untracked_and_backorder_skus(world) -> None:
    await world.bus.handle(c.SetSkuPolicy(sku="EBOOK", track_inventory=False))
    await world.bus.handle(c.SetSkuPolicy(sku="PREORDER", allow_backorder=True))
    await world.bus.handle(c.ReceiveStock(sku="PREORDER", location_id="main", quantity=1, actor="ops"))
    rid = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("EBOOK", 3), ("PREORDER", 4)]))
    reservation = await world.reservation(rid)
    assert [(line.sku, line.location_id, line.quantity) for line in reservation.lines] == [
        ("PREORDER", "main", 1),
        ("PREORDER", BACKORDER, 3),
    ]
    assert await world.balance("PREORDER") == (1, 1, 0)
    assert await world.bus.handle(c.CommitReservation(reservation_id=rid)) is True
    assert await world.balance("PREORDER") == (1, 0, 1)


async def test_a_sold_out_sku_is_refused_by_the_gate_alone(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="HOT", location_id="main", quantity=1, actor="ops"))
    await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("HOT", 1)]))
    assert world.gate.counters["HOT"] == 0
    snapshot = await world.outbox.backlog()  # the messages committed so far
    with pytest.raises(OutOfStock):
        await world.bus.handle(c.ReserveStock(reference="chk-2", lines=[("HOT", 1)]))
    assert await world.outbox.backlog() == snapshot


async def test_an_optimistic_gate_is_corrected_by_the_database(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="HOT", location_id="main", quantity=1, actor="ops"))
    world.gate.counters["HOT"] = 50  # stale: says yes wrongly
    await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("HOT", 1)]))
    with pytest.raises(OutOfStock):
        await world.bus.handle(c.ReserveStock(reference="chk-2", lines=[("HOT", 1)]))
    assert world.gate.counters["HOT"] == 0
    assert await world.balance("HOT") == (1, 1, 0)


async def test_unknown_reservation(world) -> None:
    with pytest.raises(ReservationNotFound, match=r"^nope$"):
        await world.bus.handle(c.CommitReservation(reservation_id="nope"))


@pytest.mark.parametrize(("location_id", "name"), [(" ", "Main"), ("main", " "), ("", "")])
async def test_a_location_needs_both_an_id_and_a_name(world, location_id, name) -> None:
    with pytest.raises(InventoryError, match=r"^a location needs an id and a name$"):
        await world.bus.handle(c.AddLocation(id=location_id, name=name))


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
async def test_a_reservation_line_needs_a_positive_whole_number_of_units(world, quantity) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    with pytest.raises(InventoryError, match=r"^quantity for TEE must be a positive whole number$"):
        await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", quantity)]))
    assert await world.balance("TEE") == (5, 0, 0)
    assert world.gate.counters["TEE"] == 5


class CountingGate(MemoryStockGate):
    """Records every take it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[dict[str, int]] = []

    async def try_take_many(self, requests: list[dict[str, int]]) -> list[GateAnswer]:
        self.asked.extend(requests)
        return await super().try_take_many(requests)


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
async def test_a_malformed_reservation_line_is_refused_before_the_stock_gate_is_asked(quantity) -> None:
    db, ids, gate = MemoryDatabase(), SequentialIds(), CountingGate()
    bus = build_bus(uow=lambda: MemoryUnitOfWork(db, ids), clock=FakeClock(), ids=ids, gate=gate, reservation_ttl=600)
    with pytest.raises(InventoryError, match=r"^quantity for TEE must be a positive whole number$"):
        await bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", quantity)]))
    assert gate.asked == []


async def test_a_reservation_of_one_unit_is_a_reservation(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 1)]))
    assert await world.balance("TEE") == (5, 1, 0)


async def test_a_sku_policy_is_stored_as_given_and_a_low_stock_threshold_of_zero_is_allowed(world) -> None:
    await world.bus.handle(c.SetSkuPolicy(sku="TEE", low_stock_threshold=0, show_quantity=True, allow_backorder=True))
    _, policy = await stock_levels("TEE", uow=world.uow)
    assert policy == SkuPolicy(
        sku="TEE", track_inventory=True, allow_backorder=True, low_stock_threshold=0, show_quantity=True
    )
    _, unknown = await stock_levels("CAP", uow=world.uow)
    assert unknown == SkuPolicy(sku="CAP")


async def test_a_negative_low_stock_threshold_is_refused_and_changes_nothing(world) -> None:
    with pytest.raises(InventoryError, match=r"^the low-stock threshold cannot be negative$"):
        await world.bus.handle(c.SetSkuPolicy(sku="TEE", low_stock_threshold=-1))
    _, policy = await stock_levels("TEE", uow=world.uow)
    assert policy == SkuPolicy(sku="TEE")


async def test_a_hold_is_extended_by_one_second_or_more_never_by_zero(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=1, actor="ops"))
    rid = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 1)], ttl_seconds=60))
    world.clock.advance(timedelta(seconds=59.5))
    with pytest.raises(InventoryError, match=r"^extend by a positive number of seconds$"):
        await world.bus.handle(c.ExtendReservation(reservation_id=rid, seconds=0))
    await world.bus.handle(c.ExtendReservation(reservation_id=rid, seconds=1))
    assert (await world.reservation(rid)).expires_at == world.clock.now() + timedelta(seconds=1)


async def test_a_transfer_within_one_location_is_refused_naming_why(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=2, actor="ops"))
    with pytest.raises(InventoryError, match=r"^a transfer needs two different locations$"):
        await world.bus.handle(
            c.TransferStock(sku="TEE", from_location="main", to_location="main", quantity=1, actor="ops")
        )
    assert await world.balance("TEE") == (2, 0, 0)


async def test_a_transfer_records_who_moved_what_and_when_on_both_sides(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=4, actor="ops"))
    world.clock.advance(timedelta(minutes=5))
    reference = await world.bus.handle(
        c.TransferStock(sku="TEE", from_location="main", to_location="store", quantity=3, actor="clerk")
    )
    moved = [m for m in await stock_movements("TEE", uow=world.uow) if m.reference == reference]
    assert sorted((m.location_id, m.kind.value, m.on_hand_delta, m.actor, m.occurred_at) for m in moved) == [
        ("main", "transferred_out", -3, "clerk", world.clock.now()),
        ("store", "transferred_in", 3, "clerk", world.clock.now()),
    ]


def test_stock_item_invariant_and_status_rules() -> None:
    from adapters.memory.clock import FakeClock as Clock

    item = StockItem(sku="X", location_id="main")
    with pytest.raises(InsufficientStock):
        item.reserve(1, reservation_id="r", now=Clock().now())
    assert item.movements == []
    policy = SkuPolicy(sku="X", low_stock_threshold=3)
    assert [availability_status(n, policy) for n in (0, 2, 10)] == ["sold_out", "low", "in_stock"]
    assert availability_status(0, SkuPolicy(sku="X", allow_backorder=True)) == "backorder"


def _failing_first(world, error: Exception):
    failures = {"left": 1}

    def uow():
        if failures["left"]:
            failures["left"] -= 1

            class Broken:
                async def __aenter__(self):
                    raise error

                async def __aexit__(self, *exc):
                    return None

            return Broken()
        return world.uow()

    return uow


async def test_a_group_refused_for_one_requests_sake_is_retried_one_by_one(world, caplog) -> None:
    import asyncio
    from datetime import timedelta as td

    from application.inventory.batching import ReservationBatcher

    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=4, actor="ops"))
    batcher = ReservationBatcher(_failing_first(world, Conflict("a duplicate raced in")), world.clock, world.ids)
    with caplog.at_level(logging.WARNING, logger="application.messaging.grouping"):
        outcomes = await asyncio.gather(
            *(batcher.reserve(f"chk-{n}", {"TEE": 1}, td(minutes=5)) for n in range(5)), return_exceptions=True
        )
    assert [r.getMessage() for r in caplog.records if r.name == "application.messaging.grouping"] == [
        "reservation group of 5 failed (a duplicate raced in); retrying one by one"
    ]
    assert sum(isinstance(o, str) for o in outcomes) == 4  # retried one by one after the group failed
    assert sum(isinstance(o, OutOfStock) for o in outcomes) == 1
    assert await world.balance("TEE") == (4, 4, 0) == await world.ledger("TEE")
    assert batcher.transactions == 6  # the failed group, then each request alone


async def test_a_group_that_lost_its_connection_tells_every_caller_at_once(world) -> None:
    import asyncio
    from datetime import timedelta as td

    from application.inventory.batching import ReservationBatcher

    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=4, actor="ops"))
    batcher = ReservationBatcher(_failing_first(world, ConnectionError("connection lost")), world.clock, world.ids)
    outcomes = await asyncio.gather(
        *(batcher.reserve(f"chk-{n}", {"TEE": 1}, td(minutes=5)) for n in range(5)), return_exceptions=True
    )
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    assert batcher.transactions == 1  # no retry storm against a database that is away
    assert await world.balance("TEE") == (4, 0, 0)


async def test_requests_arriving_together_are_decided_in_one_transaction_in_arrival_order(world) -> None:
    import asyncio
    from datetime import timedelta as td

    from application.inventory.batching import ReservationBatcher

    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=3, actor="ops"))
    batcher = ReservationBatcher(world.uow, world.clock, world.ids)
    outcomes = await asyncio.gather(
        *(batcher.reserve(f"chk-{n}", {"TEE": 2 if n == 0 else 1}, td(minutes=5)) for n in range(4)),
        return_exceptions=True,
    )
    assert [type(o).__name__ for o in outcomes] == ["str", "str", "OutOfStock", "OutOfStock"]
    assert batcher.transactions == 1
    assert await world.balance("TEE") == (3, 3, 0)


async def test_closes_arriving_together_share_one_transaction_and_each_gets_its_own_answer(world) -> None:
    """Commits and releases of a sale's holds go to PostgreSQL as one group; a repeated commit in
    the same group is answered "already done" and moves nothing twice."""
    import asyncio

    from application.inventory.batching import ReservationBatcher
    from domain.inventory.reservation import ReservationStatus as S

    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    held = [await world.bus.handle(c.ReserveStock(reference=f"chk-{n}", lines=[("TEE", 1)])) for n in range(4)]
    batcher = ReservationBatcher(world.uow, world.clock, world.ids)
    now = world.clock.now()

    def commit(r, items):
        return r.commit(items, now=now)

    def release(r, items):
        return r.release(items, now=now)

    closed = await asyncio.gather(
        batcher.close(held[0], commit, already=frozenset({S.COMMITTED})),
        batcher.close(held[1], commit, already=frozenset({S.COMMITTED})),
        batcher.close(held[0], commit, already=frozenset({S.COMMITTED})),  # the consumer, after the request
        batcher.close(held[2], release, already=frozenset({S.RELEASED})),
    )
    assert [(x.done, x.changed) for x in closed] == [(True, []), (True, []), (False, []), (True, ["TEE"])]
    assert batcher.closing_transactions == 1
    assert await world.balance("TEE") == (5, 1, 2) == await world.ledger("TEE")


async def test_a_closing_group_refused_for_one_requests_sake_is_rolled_back_and_retried_one_by_one(
    world, caplog
) -> None:
    import asyncio

    from application.inventory.batching import ReservationBatcher

    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    held = [await world.bus.handle(c.ReserveStock(reference=f"chk-{n}", lines=[("TEE", 1)])) for n in range(3)]
    assert await world.bus.handle(c.ReleaseReservation(reservation_id=held[1])) is True
    batcher = ReservationBatcher(world.uow, world.clock, world.ids)
    now = world.clock.now()

    def commit(r, items):
        return r.commit(items, now=now)

    with caplog.at_level(logging.WARNING, logger="application.messaging.grouping"):
        outcomes = await asyncio.gather(
            batcher.close(held[0], commit), batcher.close(held[1], commit),  # released: its units are gone
            batcher.close("no-such-hold", commit), batcher.close(held[2], commit),
            return_exceptions=True,
        )
    [warning] = [r.getMessage() for r in caplog.records if r.name == "application.messaging.grouping"]
    assert warning.startswith("closing group of 4 failed (")
    assert warning.endswith("); retrying one by one")
    assert [type(o).__name__ for o in outcomes] == ["Closed", "ReservationClosed", "ReservationNotFound", "Closed"]
    assert batcher.closing_transactions == 5  # the group, rolled back whole; then each request alone
    assert await world.balance("TEE") == (5, 0, 2) == await world.ledger("TEE")


def test_a_bundle_is_as_available_as_its_scarcest_component() -> None:
    from domain.inventory.reservation import bundle_status

    assert bundle_status(["in_stock", "low"]) == "low"
    assert bundle_status(["in_stock", "sold_out", "low"]) == "sold_out"
    assert bundle_status(["untracked", "in_stock"]) == "in_stock"
    assert bundle_status(["in_stock", "unknown"]) == "unknown"


# -- what the handlers hand on: lines, the gate's counters, the ledger's who and when ---------------------------


async def test_lines_of_one_sku_are_held_as_one_line_of_their_sum(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    rid = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 1), ("TEE", 2)]))
    reservation = await world.reservation(rid)
    assert [(line.sku, line.location_id, line.quantity) for line in reservation.lines] == [("TEE", "main", 3)]
    assert await world.balance("TEE") == (5, 3, 0)


async def test_a_reservation_without_lines_is_refused_naming_why(world) -> None:
    with pytest.raises(InventoryError, match=r"^a reservation needs at least one line$"):
        await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[]))


async def test_a_sku_the_gate_has_no_counter_for_gets_one_from_the_database_after_a_reservation(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    world.gate.counters.clear()  # the gate lost its counters (a Redis restart)
    await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 2)]))
    assert world.gate.counters == {"TEE": 3}


class RefilledMeanwhile(MemoryStockGate):
    """Another process sets the TEE counter between this buyer's take and the end of its reservation."""

    async def try_take_many(self, requests: list[dict[str, int]]) -> list[GateAnswer]:
        answers = await super().try_take_many(requests)
        self.counters.setdefault("TEE", 7)
        return answers


async def test_a_counter_set_meanwhile_is_not_overwritten_by_the_refill_after_a_reservation() -> None:
    db, ids, gate = MemoryDatabase(), SequentialIds(), RefilledMeanwhile()
    bus = build_bus(uow=lambda: MemoryUnitOfWork(db, ids), clock=FakeClock(), ids=ids, gate=gate, reservation_ttl=600)
    await bus.handle(c.AddLocation(id="main", name="Main"))
    await bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    gate.counters.clear()  # the gate lost its counters; the next take finds none for TEE
    await bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 2)]))
    assert gate.counters == {"TEE": 7}  # a live counter counts takes PostgreSQL has not seen yet: kept


class RefillFails(MemoryStockGate):
    async def refill(self, available: dict[str, int | None], *, only_missing: bool = False) -> None:
        raise ConnectionError("the gate is unreachable")


async def test_a_gate_that_cannot_be_refilled_leaves_the_change_standing_and_is_logged_with_its_cause(caplog) -> None:
    db, ids = MemoryDatabase(), SequentialIds()
    bus = build_bus(uow=lambda: MemoryUnitOfWork(db, ids), clock=FakeClock(), ids=ids, gate=RefillFails())
    await bus.handle(c.AddLocation(id="main", name="Main"))
    with caplog.at_level(logging.WARNING, logger="application.inventory.api"):
        assert await bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops")) == 5
    [record] = [r for r in caplog.records if r.name == "application.inventory.api"]
    assert (record.levelno, record.getMessage()) == (logging.WARNING, "stock gate refill failed for ['TEE']")
    assert record.exc_info is not None
    assert record.exc_info[0] is ConnectionError
    levels, _ = await stock_levels("TEE", uow=lambda: MemoryUnitOfWork(db, ids))
    assert [item.on_hand for item in levels] == [5]


async def test_receipts_and_adjustments_are_dated_and_signed_and_reach_the_gate(world) -> None:
    world.clock.advance(timedelta(minutes=3))
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops", reference="PO-7"))
    received_at = world.clock.now()
    world.clock.advance(timedelta(minutes=4))
    await world.bus.handle(c.AdjustStock(sku="TEE", location_id="main", delta=-2, reason="damaged", actor="clerk"))
    assert world.gate.counters["TEE"] == 3
    adjusted, received = await stock_movements("TEE", uow=world.uow)
    assert (received.kind, received.actor, received.occurred_at) == (MovementKind.RECEIVED, "ops", received_at)
    assert (adjusted.kind, adjusted.actor, adjusted.reason, adjusted.occurred_at) == (
        MovementKind.ADJUSTED, "clerk", "damaged", world.clock.now()
    )


async def test_an_untracked_or_backorder_policy_takes_the_sku_out_of_the_gate_and_tracking_puts_it_back(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    assert world.gate.counters == {"TEE": 5}
    await world.bus.handle(c.SetSkuPolicy(sku="TEE", track_inventory=False))
    assert world.gate.counters == {}  # never gated: PostgreSQL decides alone
    await world.bus.handle(c.SetSkuPolicy(sku="TEE"))
    assert world.gate.counters == {"TEE": 5}
    await world.bus.handle(c.SetSkuPolicy(sku="TEE", allow_backorder=True))
    assert world.gate.counters == {}


async def test_a_policy_change_shows_in_the_storefronts_availability_at_once(world) -> None:
    await world.bus.handle(c.SetSkuPolicy(sku="PRE", allow_backorder=True))
    assert await availability_of(["PRE", "NEVER"], uow=world.uow) == {
        "PRE": Availability(sku="PRE", status="backorder", quantity=None)
    }


async def test_the_availability_projection_reads_the_current_balance_so_a_stale_event_cannot_regress_it(world) -> None:
    await world.bus.handle(c.SetSkuPolicy(sku="TEE", low_stock_threshold=2, show_quantity=True))
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=3, actor="ops"))
    await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 2)]))
    stale = StockChanged(aggregate_id="TEE", aggregate_version=1, occurred_at=world.clock.now(), sku="TEE",
                         location_id="main", on_hand=3, reserved=0, kind="received")
    for _ in range(2):
        async with world.uow() as tx:
            await project_availability(stale, tx)
            await tx.commit()
    assert await availability_of(["TEE"], uow=world.uow) == {"TEE": Availability(sku="TEE", status="low", quantity=1)}


async def test_a_burst_of_stock_changes_refreshes_every_sku_it_names_from_its_current_balance(world) -> None:
    for sku, units in (("TEE", 3), ("CAP", 20)):
        await world.bus.handle(c.SetSkuPolicy(sku=sku, low_stock_threshold=2, show_quantity=True))
        await world.bus.handle(c.ReceiveStock(sku=sku, location_id="main", quantity=units, actor="ops"))
    await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 2), ("CAP", 1)]))
    burst = [StockChanged(aggregate_id=sku, aggregate_version=1, occurred_at=world.clock.now(), sku=sku,
                          location_id="main", on_hand=0, reserved=0, kind="received")
             for sku in ("TEE", "CAP", "TEE")]  # stale, and TEE twice: each SKU read once, as it stands now
    async with world.uow() as tx:
        await project_availabilities(burst, tx)
        await tx.commit()
    assert await availability_of(["TEE", "CAP"], uow=world.uow) == {
        "TEE": Availability(sku="TEE", status="low", quantity=1),
        "CAP": Availability(sku="CAP", status="in_stock", quantity=19),
    }


async def test_a_location_is_stored_with_its_name_and_priority(world) -> None:
    await world.bus.handle(c.AddLocation(id="back", name="Back room", priority=7))
    async with world.uow() as tx:
        locations = await tx.stock.locations()
    assert [(loc.id, loc.name, loc.priority) for loc in locations] == [
        ("main", "Main warehouse", 1), ("store", "Shop floor", 2), ("back", "Back room", 7),
    ]


async def test_each_transfer_has_its_own_reference_carried_by_both_sides(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=4, actor="ops"))
    references = [
        await world.bus.handle(c.TransferStock(sku="TEE", from_location="main", to_location="store", quantity=1,
                                               actor="ops"))
        for _ in range(2)
    ]
    assert all(isinstance(r, str) and r for r in references)
    assert references[0] != references[1]
    movements = await stock_movements("TEE", uow=world.uow)
    for reference in references:
        assert sorted(m.kind.value for m in movements if m.reference == reference) == [
            "transferred_in", "transferred_out"
        ]


async def test_every_close_of_a_hold_is_dated_and_signed_in_the_ledger(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    shipped, released, returned = [
        await world.bus.handle(c.ReserveStock(reference=f"chk-{n}", lines=[("TEE", 1)])) for n in range(3)
    ]
    moments = []

    async def later(command) -> None:
        world.clock.advance(timedelta(minutes=1))
        moments.append(world.clock.now())
        await world.bus.handle(command)

    await later(c.CommitReservation(reservation_id=shipped))
    await later(c.ShipReservation(reservation_id=shipped, actor="packer"))
    await later(c.ReleaseReservation(reservation_id=released))
    await later(c.CommitReservation(reservation_id=returned))
    await later(c.ReturnReservation(reservation_id=returned, actor="staff"))
    closes = [m for m in reversed(await stock_movements("TEE", uow=world.uow)) if m.kind.value != "reserved"][1:]
    assert [(m.kind.value, m.reference, m.actor, m.occurred_at) for m in closes] == [
        ("committed", shipped, "system", moments[0]),
        ("shipped", shipped, "packer", moments[1]),
        ("released", released, "system", moments[2]),
        ("committed", returned, "system", moments[3]),
        ("released", returned, "staff", moments[4]),
    ]


async def test_a_late_payment_re_takes_a_lapsed_hold_now_and_takes_its_units_off_the_gate(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=2, actor="ops"))
    rid = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 1)], ttl_seconds=60))
    world.clock.advance(timedelta(seconds=61))
    await world.bus.handle(c.Reconcile())
    assert world.gate.counters["TEE"] == 2  # the lapsed hold's unit is back on sale
    world.clock.advance(timedelta(minutes=5))
    assert await world.bus.handle(c.CommitReservation(reservation_id=rid, reclaim=True)) is True
    assert world.gate.counters["TEE"] == 1
    committed, reserved, *_ = await stock_movements("TEE", uow=world.uow)
    assert [(m.kind.value, m.reference, m.occurred_at) for m in (reserved, committed)] == [
        ("reserved", rid, world.clock.now()), ("committed", rid, world.clock.now()),
    ]
    assert await world.balance("TEE") == (2, 0, 1) == await world.ledger("TEE")


async def test_a_reconciliation_run_is_recorded_with_its_own_id_and_moment_and_resets_a_stale_gate(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    world.gate.counters["TEE"] = 50  # stale: a counter PostgreSQL disagrees with
    world.clock.advance(timedelta(minutes=2))
    first = await world.bus.handle(c.Reconcile())
    assert (first.ran_at, first.expired, first.drift) == (world.clock.now(), 0, [])
    assert world.gate.counters["TEE"] == 5
    second = await world.bus.handle(c.Reconcile())
    assert isinstance(first.id, str)
    assert first.id
    assert first.id != second.id


async def test_a_reconciliation_expires_at_most_its_batch_and_counts_each_hold_it_expired(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    for n in range(3):
        await world.bus.handle(c.ReserveStock(reference=f"chk-{n}", lines=[("TEE", 1)], ttl_seconds=60))
    world.clock.advance(timedelta(seconds=61))
    assert (await world.bus.handle(c.Reconcile(batch_size=2))).expired == 2
    assert await world.balance("TEE") == (5, 1, 0)
    assert (await world.bus.handle(c.Reconcile(batch_size=2))).expired == 1
    assert await world.balance("TEE") == (5, 0, 0) == await world.ledger("TEE")


async def test_drift_is_logged_as_an_error_counting_the_items_and_the_gauges_show_it(world, caplog) -> None:
    assert await inventory_gauges(uow=world.uow) == (0, 0)  # no hold, no run yet
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 1)]))
    assert await inventory_gauges(uow=world.uow) == (1, 0)
    balance = world.db.inventory.items[("TEE", "main")]  # a bug, or an edit behind the ledger's back
    world.db.inventory.items[("TEE", "main")] = balance._replace(on_hand=balance.on_hand + 2)
    with caplog.at_level(logging.ERROR, logger="application.inventory.handlers"):
        run = await world.bus.handle(c.Reconcile())
    assert [(d.sku, d.on_hand, d.ledger_on_hand) for d in run.drift] == [("TEE", 7, 5)]
    errors = [r for r in caplog.records if r.name == "application.inventory.handlers" and r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["inventory drift on 1 stock items"]
    assert await inventory_gauges(uow=world.uow) == (1, 1)


async def test_admin_lists_show_the_hundred_most_relevant_entries_by_default(world) -> None:
    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=200, actor="ops"))
    for n in range(101):
        await world.bus.handle(c.ReserveStock(reference=f"chk-{n}", lines=[("TEE", 1)]))
    assert len(await reservations_in_flight(uow=world.uow)) == 100
    movements = await stock_movements("TEE", uow=world.uow)
    assert len(movements) == 100
    assert movements[-1].kind is MovementKind.RESERVED  # the newest first: the receipt is the 102nd


# -- the batcher: who shares a transaction, and what each request is answered ------------------------------------


async def test_a_checkout_already_holding_or_asking_twice_in_one_group_is_refused_and_the_rest_decided(world) -> None:
    import asyncio

    from application.inventory.batching import ReservationBatcher
    from tests.support.waiting import within

    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    batcher = ReservationBatcher(world.uow, world.clock, world.ids)
    ttl = timedelta(minutes=5)
    await batcher.reserve("chk-1", {"TEE": 1}, ttl)
    outcomes = await within(  # the bound only turns a caller left unanswered into a failure
        asyncio.gather(batcher.reserve("chk-1", {"TEE": 1}, ttl), batcher.reserve("chk-2", {"TEE": 1}, ttl),
                       batcher.reserve("chk-2", {"TEE": 1}, ttl), return_exceptions=True),
        what="every request of the group to be answered",
    )
    assert [type(o).__name__ for o in outcomes] == ["Conflict", "str", "Conflict"]
    assert [str(o) for o in outcomes if isinstance(o, Conflict)] == [
        "checkout chk-1 already holds an active reservation", "checkout chk-2 already holds an active reservation",
    ]
    assert batcher.transactions == 2
    assert await world.balance("TEE") == (5, 2, 0) == await world.ledger("TEE")


async def test_a_placing_group_holds_at_most_128_requests_by_default_or_the_size_it_is_given(world) -> None:
    import asyncio

    from application.inventory.batching import ReservationBatcher

    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=200, actor="ops"))
    ttl = timedelta(minutes=5)
    default = ReservationBatcher(world.uow, world.clock, world.ids)
    placed = await asyncio.gather(*(default.reserve(f"chk-{n}", {"TEE": 1}, ttl) for n in range(129)))
    assert len(set(placed)) == 129
    assert default.transactions == 2  # 128, then 1
    small = ReservationBatcher(world.uow, world.clock, world.ids, max_batch=2)
    await asyncio.gather(*(small.reserve(f"more-{n}", {"TEE": 1}, ttl) for n in range(5)))
    assert small.transactions == 3  # 2, 2, 1
    assert await world.balance("TEE") == (200, 134, 0)


async def test_a_closing_group_holds_at_most_the_size_it_is_given(world) -> None:
    import asyncio

    from application.inventory.batching import ReservationBatcher

    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    held = [await world.bus.handle(c.ReserveStock(reference=f"chk-{n}", lines=[("TEE", 1)])) for n in range(5)]
    batcher = ReservationBatcher(world.uow, world.clock, world.ids, max_batch=2)
    now = world.clock.now()
    closed = await asyncio.gather(*(batcher.close(r, lambda r, items: r.commit(items, now=now)) for r in held))
    assert [x.done for x in closed] == [True] * 5
    assert batcher.closing_transactions == 3  # 2, 2, 1
    assert await world.balance("TEE") == (5, 0, 5)


async def test_a_reservation_closed_twice_in_one_group_has_its_rows_locked_unless_both_requests_may_skip_them(
    world,
) -> None:
    """A shipment (which must move the rows) and a repeated commit (which may skip a committed hold's
    rows) of the same reservation arrive together: the rows are locked for the shipment."""
    import asyncio

    from application.inventory.batching import ReservationBatcher
    from domain.inventory.reservation import ReservationStatus as S

    await world.bus.handle(c.ReceiveStock(sku="TEE", location_id="main", quantity=5, actor="ops"))
    rid = await world.bus.handle(c.ReserveStock(reference="chk-1", lines=[("TEE", 2)]))
    await world.bus.handle(c.CommitReservation(reservation_id=rid))
    batcher = ReservationBatcher(world.uow, world.clock, world.ids)
    now = world.clock.now()
    closed = await asyncio.gather(
        batcher.close(rid, lambda r, items: r.ship(items, actor="packer", now=now)),
        batcher.close(rid, lambda r, items: r.commit(items, now=now), already=frozenset({S.COMMITTED, S.SHIPPED})),
        return_exceptions=True,
    )
    assert [(x.done, x.changed) for x in closed] == [(True, []), (False, [])]
    assert batcher.closing_transactions == 1
    assert await world.balance("TEE") == (3, 0, 0) == await world.ledger("TEE")
