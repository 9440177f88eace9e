"""Reservations and stock items: holds close once, every movement is in the ledger, boundaries both sides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.inventory.audit import InventoryDriftDetected, ReconciliationRun
from domain.inventory.errors import InsufficientStock, InventoryError, OutOfStock, ReservationClosed
from domain.inventory.reservation import (
    BACKORDER,
    Reservation,
    ReservationClosedEvent,
    ReservationLine,
    ReservationPlaced,
    ReservationStatus,
    SkuPolicy,
    availability_status,
    bundle_status,
)
from domain.inventory.stock import Drift, Movement, MovementKind, StockChanged, StockItem, fold

R = ReservationStatus
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=15)
T1 = T0 + timedelta(minutes=1)
T2 = T0 + timedelta(minutes=2)


def item(sku: str = "A", location: str = "main", on_hand: int = 10, reserved: int = 0,
         committed: int = 0) -> StockItem:
    return StockItem(sku=sku, location_id=location, on_hand=on_hand, reserved=reserved, committed=committed)


def hold(requested: dict[str, int] | None = None, *, stock: dict[str, list[StockItem]] | None = None,
         policies: dict[str, SkuPolicy] | None = None) -> tuple[Reservation, dict[tuple[str, str], StockItem]]:
    stock = stock if stock is not None else {"A": [item("A", "main", 10)]}
    reservation = Reservation.place(id="res-1", reference="co-1", requested=requested or {"A": 2}, stock=stock,
                                    policies=policies or {}, now=T0, ttl=TTL)
    items = {(i.sku, i.location_id): i for items in stock.values() for i in items}
    return reservation, items


# -- placing a hold --------------------------------------------------------------------------------


def test_placing_holds_the_units_and_records_what_and_until_when() -> None:
    reservation, items = hold({"A": 2})
    assert (reservation.id, reservation.reference, reservation.status) == ("res-1", "co-1", R.ACTIVE)
    assert (reservation.created_at, reservation.expires_at, reservation.version) == (T0, T0 + TTL, 1)
    line = ReservationLine(sku="A", location_id="main", quantity=2)
    assert reservation.lines == [line]
    assert reservation.pull_events() == [ReservationPlaced(
        aggregate_id="res-1", aggregate_version=1, occurred_at=T0, reference="co-1", lines=(line,),
        expires_at=T0 + TTL)]
    assert ReservationPlaced.topic == "inventory.reservation_placed.v1"
    assert ReservationClosedEvent.topic == "inventory.reservation_closed.v1"
    stock = items[("A", "main")]
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 2, 8)
    assert stock.pull_movements() == [Movement(
        sku="A", location_id="main", kind=MovementKind.RESERVED, on_hand_delta=0, reserved_delta=2,
        committed_delta=0, actor="system", reason="checkout", reference="res-1", occurred_at=T0)]


def test_a_hold_draws_on_locations_in_the_order_given_and_skips_empty_ones() -> None:
    stock = {"A": [item("A", "empty", 0), item("A", "near", 3), item("A", "far", 10)]}
    reservation, items = hold({"A": 5}, stock=stock)
    assert reservation.lines == [ReservationLine(sku="A", location_id="near", quantity=3),
                                 ReservationLine(sku="A", location_id="far", quantity=2)]
    assert [i.reserved for i in stock["A"]] == [0, 3, 2]
    assert items[("A", "empty")].pull_movements() == []


def test_a_hold_of_exactly_what_is_available_succeeds_and_one_more_fails() -> None:
    reservation, _ = hold({"A": 10})
    assert reservation.lines[0].quantity == 10
    with pytest.raises(OutOfStock, match=r"^sold out: A$") as refused:
        hold({"A": 11})
    assert refused.value.skus == ["A"]


def test_a_hold_is_all_or_nothing_and_names_every_short_sku() -> None:
    stock = {"A": [item("A", "main", 1)], "B": [item("B", "main", 5)], "C": [item("C", "main", 0)]}
    with pytest.raises(OutOfStock, match=r"^sold out: A, C$"):
        hold({"C": 1, "B": 2, "A": 2}, stock=stock)
    assert [i.reserved for items in stock.values() for i in items] == [0, 0, 0]


def test_a_sku_without_stock_rows_is_sold_out() -> None:
    with pytest.raises(OutOfStock, match=r"Z"):
        hold({"Z": 1})


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
def test_a_hold_of_a_non_positive_or_non_whole_quantity_is_refused_by_name(quantity: object) -> None:
    with pytest.raises(InventoryError, match=r"^quantity for A must be a positive whole number$"):
        hold({"A": quantity})  # type: ignore[dict-item]


def test_a_hold_needs_a_line() -> None:
    with pytest.raises(InventoryError, match=r"^a reservation needs at least one line$"):
        Reservation.place(id="r", reference="c", requested={}, stock={}, policies={}, now=T0, ttl=TTL)


def test_an_untracked_sku_is_never_held() -> None:
    reservation, _ = hold({"A": 1, "GIFT": 3}, policies={"GIFT": SkuPolicy(sku="GIFT", track_inventory=False)})
    assert [line.sku for line in reservation.lines] == ["A"]


def test_a_backorder_sku_holds_what_there_is_and_promises_the_rest() -> None:
    stock = {"A": [item("A", "main", 2)]}
    reservation, items = hold({"A": 5}, stock=stock, policies={"A": SkuPolicy(sku="A", allow_backorder=True)})
    assert reservation.lines == [ReservationLine(sku="A", location_id="main", quantity=2),
                                 ReservationLine(sku="A", location_id=BACKORDER, quantity=3)]
    assert reservation.held_lines == [ReservationLine(sku="A", location_id="main", quantity=2)]
    assert reservation.stock_keys() == [("A", "main")]
    assert items[("A", "main")].reserved == 2


def test_stock_keys_are_unique_and_in_lock_order() -> None:
    stock = {"B": [item("B", "x", 1), item("B", "a", 5)], "A": [item("A", "z", 5)]}
    reservation, _ = hold({"B": 3, "A": 1}, stock=stock)
    assert reservation.stock_keys() == [("A", "z"), ("B", "a"), ("B", "x")]


# -- expiry and extension ----------------------------------------------------------------------------


def test_a_hold_expires_exactly_at_its_ttl_not_a_moment_before() -> None:
    reservation, items = hold({"A": 2})
    just_before = T0 + TTL - timedelta(microseconds=1)
    assert not reservation.is_expired(just_before)
    assert reservation.expire(items, now=just_before) is False
    assert reservation.status is R.ACTIVE
    assert reservation.is_expired(T0 + TTL)
    reservation.pull_events()
    assert reservation.expire(items, now=T0 + TTL) is True
    assert (reservation.status, reservation.version) == (R.EXPIRED, 2)
    assert items[("A", "main")].reserved == 0
    assert items[("A", "main")].pull_movements()[-1].kind is MovementKind.EXPIRED
    assert reservation.pull_events() == [ReservationClosedEvent(
        aggregate_id="res-1", aggregate_version=2, occurred_at=T0 + TTL, reference="co-1", status="expired",
        lines=(ReservationLine(sku="A", location_id="main", quantity=2),))]
    assert reservation.expire(items, now=T0 + TTL) is False
    assert not reservation.is_expired(T0 + TTL)  # closed holds are not "expired" any more


def test_extending_postpones_expiry_but_never_shortens_it() -> None:
    reservation, _ = hold()
    reservation.extend(T0 + 2 * TTL, now=T1)
    assert (reservation.expires_at, reservation.version) == (T0 + 2 * TTL, 2)
    reservation.extend(T0 + TTL, now=T1)
    reservation.extend(T0 + 2 * TTL, now=T1)
    assert (reservation.expires_at, reservation.version) == (T0 + 2 * TTL, 2)


def test_a_hold_cannot_be_extended_at_or_after_its_expiry() -> None:
    reservation, _ = hold()
    reservation.extend(T0 + TTL + T1.minute * timedelta(seconds=1), now=T0 + TTL - timedelta(microseconds=1))
    late, _ = hold()
    with pytest.raises(ReservationClosed, match=r"^reservation res-1 is active or expired$"):
        late.extend(T0 + 2 * TTL, now=T0 + TTL)
    assert late.expires_at == T0 + TTL


def test_a_closed_hold_cannot_be_extended() -> None:
    reservation, items = hold()
    reservation.release(items, now=T1)
    with pytest.raises(ReservationClosed, match=r"^reservation res-1 is released or expired$"):
        reservation.extend(T0 + 2 * TTL, now=T1)


# -- closing a hold --------------------------------------------------------------------------------------


def test_release_frees_the_units_once_and_records_it() -> None:
    reservation, items = hold({"A": 2})
    reservation.pull_events()
    assert reservation.release(items, now=T1) is True
    assert (reservation.status, reservation.version) == (R.RELEASED, 2)
    stock = items[("A", "main")]
    assert (stock.reserved, stock.available) == (0, 10)
    released = stock.pull_movements()[-1]
    assert (released.kind, released.reserved_delta, released.reason, released.reference) == (
        MovementKind.RELEASED, -2, "released", "res-1")
    (event,) = reservation.pull_events()
    assert isinstance(event, ReservationClosedEvent)
    assert (event.status, event.aggregate_version, event.occurred_at) == ("released", 2, T1)
    assert reservation.release(items, now=T2) is False
    assert reservation.version == 2


def test_an_expired_hold_is_not_released_again() -> None:
    reservation, items = hold()
    reservation.expire(items, now=T0 + TTL)
    assert reservation.release(items, now=T0 + TTL) is False
    assert reservation.status is R.EXPIRED


@pytest.mark.parametrize("status", [R.COMMITTED, R.SHIPPED, R.RETURNED])
def test_a_sold_hold_is_not_released_the_order_is_cancelled_instead(status: ReservationStatus) -> None:
    reservation, items = hold()
    reservation.commit(items, now=T1)
    if status is R.SHIPPED:
        reservation.ship(items, actor="staff", now=T2)
    if status is R.RETURNED:
        reservation.give_back(items, actor="staff", now=T2)
    with pytest.raises(ReservationClosed, match=fr"^reservation res-1 was {status.value}; cancel the order instead$"):
        reservation.release(items, now=T2)


def test_commit_sells_the_held_units_once() -> None:
    reservation, items = hold({"A": 2})
    reservation.pull_events()
    assert reservation.commit(items, now=T1) is True
    assert (reservation.status, reservation.version) == (R.COMMITTED, 2)
    stock = items[("A", "main")]
    assert (stock.on_hand, stock.reserved, stock.committed, stock.available) == (10, 0, 2, 8)
    committed = stock.pull_movements()[-1]
    assert (committed.kind, committed.reserved_delta, committed.committed_delta, committed.reason) == (
        MovementKind.COMMITTED, -2, 2, "paid")
    (event,) = reservation.pull_events()
    assert isinstance(event, ReservationClosedEvent)
    assert event.status == "committed"
    assert reservation.commit(items, now=T2) is False
    assert stock.committed == 2


@pytest.mark.parametrize("closing", ["release", "expire"])
def test_a_freed_hold_cannot_be_committed(closing: str) -> None:
    reservation, items = hold()
    if closing == "release":
        reservation.release(items, now=T1)
    else:
        reservation.expire(items, now=T0 + TTL)
    status = "released" if closing == "release" else "expired"
    with pytest.raises(ReservationClosed, match=fr"^reservation res-1 was {status}; its units are gone$"):
        reservation.commit(items, now=T2)


def test_a_late_payment_re_takes_the_lapsed_units_when_they_are_still_there() -> None:
    reservation, items = hold({"A": 2})
    reservation.expire(items, now=T0 + TTL)
    assert reservation.reclaim_and_commit(items, now=T2 + TTL) is True
    stock = items[("A", "main")]
    assert (reservation.status, stock.reserved, stock.committed) == (R.COMMITTED, 0, 2)
    assert [m.kind for m in stock.pull_movements()][-2:] == [MovementKind.RESERVED, MovementKind.COMMITTED]
    assert reservation.reclaim_and_commit(items, now=T2 + TTL) is False


def test_a_late_payment_can_take_exactly_the_units_left() -> None:
    stock = {"A": [item("A", "main", 3)]}
    reservation, items = hold({"A": 2}, stock=stock)
    reservation.release(items, now=T1)
    items[("A", "main")].reserve(1, reservation_id="other", now=T1)
    assert reservation.reclaim_and_commit(items, now=T2) is True


def test_a_late_payment_whose_units_were_sold_meanwhile_is_out_of_stock_and_takes_nothing() -> None:
    stock = {"A": [item("A", "main", 3)], "B": [item("B", "main", 5)]}
    reservation, items = hold({"A": 2, "B": 1}, stock=stock)
    reservation.release(items, now=T1)
    items[("A", "main")].reserve(2, reservation_id="other", now=T1)
    with pytest.raises(OutOfStock, match=r"^sold out: A$"):
        reservation.reclaim_and_commit(items, now=T2)
    assert reservation.status is R.RELEASED
    assert items[("B", "main")].reserved == 0


def test_reclaiming_an_active_hold_just_commits_it() -> None:
    reservation, items = hold()
    assert reservation.reclaim_and_commit(items, now=T1) is True
    assert reservation.status is R.COMMITTED


def test_a_returned_hold_is_not_reclaimed() -> None:
    reservation, items = hold()
    reservation.commit(items, now=T1)
    reservation.give_back(items, actor="staff", now=T1)
    with pytest.raises(ReservationClosed, match=r"^reservation res-1 was returned; its order is over$"):
        reservation.reclaim_and_commit(items, now=T2)


def test_shipping_takes_committed_units_out_of_on_hand_once() -> None:
    reservation, items = hold({"A": 2})
    reservation.commit(items, now=T1)
    reservation.pull_events()
    assert reservation.ship(items, actor="staff:bo", now=T2) is True
    stock = items[("A", "main")]
    assert (reservation.status, stock.on_hand, stock.committed, stock.available) == (R.SHIPPED, 8, 0, 8)
    shipped = stock.pull_movements()[-1]
    assert (shipped.kind, shipped.on_hand_delta, shipped.committed_delta, shipped.actor, shipped.reason) == (
        MovementKind.SHIPPED, -2, -2, "staff:bo", "shipped")
    (event,) = reservation.pull_events()
    assert isinstance(event, ReservationClosedEvent)
    assert event.status == "shipped"
    assert reservation.ship(items, actor="staff:bo", now=T2) is False
    assert reservation.commit(items, now=T2) is False
    assert stock.on_hand == 8


def test_shipping_an_uncommitted_hold_commits_it_first() -> None:
    reservation, items = hold({"A": 2})
    assert reservation.ship(items, actor="staff", now=T1) is True
    stock = items[("A", "main")]
    assert (stock.on_hand, stock.reserved, stock.committed) == (8, 0, 0)
    assert [m.kind for m in stock.pull_movements()] == [MovementKind.RESERVED, MovementKind.COMMITTED,
                                                       MovementKind.SHIPPED]


def test_a_returned_hold_does_not_ship() -> None:
    reservation, items = hold()
    reservation.commit(items, now=T1)
    reservation.give_back(items, actor="staff", now=T1)
    with pytest.raises(ReservationClosed, match=r"^reservation res-1 was returned; its units are back on sale$"):
        reservation.ship(items, actor="staff", now=T2)


def test_giving_back_a_committed_hold_puts_its_units_back_on_sale() -> None:
    reservation, items = hold({"A": 2})
    reservation.commit(items, now=T1)
    reservation.pull_events()
    assert reservation.give_back(items, actor="staff:bo", now=T2) is True
    stock = items[("A", "main")]
    assert (reservation.status, stock.on_hand, stock.committed, stock.available) == (R.RETURNED, 10, 0, 10)
    back = stock.pull_movements()[-1]
    assert (back.kind, back.committed_delta, back.actor, back.reason, back.reference) == (
        MovementKind.RELEASED, -2, "staff:bo", "order cancelled", "res-1")
    (event,) = reservation.pull_events()
    assert isinstance(event, ReservationClosedEvent)
    assert event.status == "returned"
    assert reservation.give_back(items, actor="staff:bo", now=T2) is False


def test_giving_back_a_shipped_hold_puts_its_units_back_on_the_shelf() -> None:
    reservation, items = hold({"A": 2})
    reservation.ship(items, actor="staff", now=T1)
    assert reservation.give_back(items, actor="staff:bo", now=T2) is True
    stock = items[("A", "main")]
    assert (stock.on_hand, stock.committed, stock.available) == (10, 0, 10)
    back = stock.pull_movements()[-1]
    assert (back.kind, back.on_hand_delta, back.actor, back.reason, back.reference) == (
        MovementKind.RETURNED, 2, "staff:bo", "returned", "res-1")


def test_giving_back_an_active_hold_releases_it() -> None:
    reservation, items = hold({"A": 2})
    assert reservation.give_back(items, actor="staff", now=T1) is True
    assert (reservation.status, items[("A", "main")].reserved) == (R.RELEASED, 0)


@pytest.mark.parametrize("closing", ["release", "expire"])
def test_giving_back_a_freed_hold_does_nothing(closing: str) -> None:
    reservation, items = hold()
    if closing == "release":
        reservation.release(items, now=T1)
    else:
        reservation.expire(items, now=T0 + TTL)
    version = reservation.version
    assert reservation.give_back(items, actor="staff", now=T2) is False
    assert reservation.version == version


def test_backorder_lines_move_no_stock_when_the_hold_closes() -> None:
    stock = {"A": [item("A", "main", 1)]}
    reservation, items = hold({"A": 3}, stock=stock, policies={"A": SkuPolicy(sku="A", allow_backorder=True)})
    reservation.commit(items, now=T1)
    reservation.ship(items, actor="staff", now=T2)
    assert items[("A", "main")].on_hand == 0
    event = reservation.pull_events()[-1]
    assert isinstance(event, ReservationClosedEvent)
    assert [line.location_id for line in event.lines] == ["main", BACKORDER]


# -- what a shopper is told ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("available", "policy", "status"),
    [
        (6, SkuPolicy(sku="A"), "in_stock"),
        (5, SkuPolicy(sku="A"), "low"),
        (1, SkuPolicy(sku="A"), "low"),
        (0, SkuPolicy(sku="A"), "sold_out"),
        (-1, SkuPolicy(sku="A"), "sold_out"),
        (0, SkuPolicy(sku="A", allow_backorder=True), "backorder"),
        (1, SkuPolicy(sku="A", allow_backorder=True), "low"),
        (0, SkuPolicy(sku="A", track_inventory=False), "untracked"),
        (1, SkuPolicy(sku="A", low_stock_threshold=0), "in_stock"),
        (10, SkuPolicy(sku="A", low_stock_threshold=10), "low"),
        (11, SkuPolicy(sku="A", low_stock_threshold=10), "in_stock"),
    ],
)
def test_availability_status_at_and_around_its_thresholds(available: int, policy: SkuPolicy, status: str) -> None:
    assert availability_status(available, policy) == status


def test_a_policy_tracks_without_backorder_and_warns_at_five_by_default() -> None:
    policy = SkuPolicy(sku="A")
    assert (policy.track_inventory, policy.allow_backorder, policy.low_stock_threshold, policy.show_quantity) == (
        True, False, 5, False)


@pytest.mark.parametrize(
    ("components", "status"),
    [
        ([], "unknown"),
        (["in_stock", "low"], "low"),
        (["in_stock", "sold_out", "low"], "sold_out"),
        (["backorder", "in_stock"], "in_stock"),
        (["untracked"], "in_stock"),
        (["untracked", "backorder"], "in_stock"),
        (["untracked", "low"], "low"),
        (["in_stock"], "in_stock"),
        (["in_stock", "mystery"], "mystery"),
    ],
)
def test_a_bundle_is_as_available_as_its_scarcest_component(components: list[str], status: str) -> None:
    assert bundle_status(components) == status


# -- the stock item ledger -------------------------------------------------------------------------------


def test_receiving_adds_to_on_hand_and_records_the_movement_and_one_event() -> None:
    stock = item(on_hand=0)
    stock.receive(5, actor="staff:bo", reference="po-1", now=T0)
    stock.receive(1, actor="staff:bo", now=T1)
    assert (stock.on_hand, stock.available, stock.version) == (6, 6, 2)
    assert stock.pull_movements() == [
        Movement(sku="A", location_id="main", kind=MovementKind.RECEIVED, on_hand_delta=5, reserved_delta=0,
                 committed_delta=0, actor="staff:bo", reason="received", reference="po-1", occurred_at=T0),
        Movement(sku="A", location_id="main", kind=MovementKind.RECEIVED, on_hand_delta=1, reserved_delta=0,
                 committed_delta=0, actor="staff:bo", reason="received", reference="", occurred_at=T1),
    ]
    assert stock.pull_movements() == []
    assert stock.pull_events() == [StockChanged(
        aggregate_id="A@main", aggregate_version=2, occurred_at=T1, sku="A", location_id="main", on_hand=6,
        reserved=0, kind="received", committed=0, available_before=0)]
    assert stock.pull_events() == []
    assert StockChanged.topic == "inventory.stock_changed.v1"


def test_the_one_stock_event_carries_the_final_balance_and_the_last_kind() -> None:
    stock = item(on_hand=10)
    stock.reserve(3, reservation_id="r1", now=T0)
    stock.commit(2, reservation_id="r1", now=T1)
    (event,) = stock.pull_events()
    assert isinstance(event, StockChanged)
    assert (event.on_hand, event.reserved, event.committed, event.kind, event.occurred_at) == (10, 1, 2, "committed",
                                                                                              T1)


def test_the_stock_event_carries_what_was_available_before_the_transactions_first_change() -> None:
    stock = item(on_hand=10, reserved=2, committed=1)
    stock.reserve(3, reservation_id="r1", now=T0)
    stock.commit(1, reservation_id="r1", now=T1)
    (event,) = stock.pull_events()
    assert event.available_before == 7  # 10 - 2 - 1, before both changes
    stock.reserve(1, reservation_id="r2", now=T1)
    (event,) = stock.pull_events()
    assert event.available_before == 4  # the next transaction starts from where the last one ended


@pytest.mark.parametrize(
    ("before", "on_hand", "reserved", "committed", "crossed"),
    [
        (5, 5, 2, 0, False),  # some before, some after: on sale throughout
        (3, 5, 2, 3, True),  # the last units held or sold: sold out here now
        (1, 5, 4, 0, False),  # down to the last unit, still on sale
        (0, 5, 4, 0, True),  # units back on sale
        (0, 0, 0, 0, False),  # none before, none after
        (-1, 5, 5, 0, False),  # none (short) before, none after
        (None, 5, 0, 0, True),  # an event that does not say: assume it did
    ],
)
def test_a_stock_change_crossed_zero_only_when_the_location_went_between_none_and_some(
    before: int | None, on_hand: int, reserved: int, committed: int, crossed: bool,
) -> None:
    event = StockChanged(aggregate_id="A@main", aggregate_version=1, occurred_at=T0, sku="A", location_id="main",
                         on_hand=on_hand, reserved=reserved, committed=committed, kind="reserved",
                         available_before=before)
    assert event.crossed_zero is crossed


@pytest.mark.parametrize("quantity", [0, -1, True, 2.0])
@pytest.mark.parametrize("operation", ["receive", "reserve", "give_back", "transfer_out", "transfer_in"])
def test_stock_quantities_are_positive_whole_numbers(operation: str, quantity: object) -> None:
    stock = item()
    calls = {
        "receive": lambda: stock.receive(quantity, actor="s", now=T0),  # type: ignore[arg-type]
        "reserve": lambda: stock.reserve(quantity, reservation_id="r", now=T0),  # type: ignore[arg-type]
        "give_back": lambda: stock.give_back(quantity, actor="s", reference="r", now=T0),  # type: ignore[arg-type]
        "transfer_out": lambda: stock.transfer_out(quantity, actor="s", reference="t", now=T0),  # type: ignore[arg-type]
        "transfer_in": lambda: stock.transfer_in(quantity, actor="s", reference="t", now=T0),  # type: ignore[arg-type]
    }
    with pytest.raises(InventoryError, match=r"^quantity must be a positive whole number$"):
        calls[operation]()
    assert (stock.on_hand, stock.version, stock.movements) == (10, 0, [])


def test_an_adjustment_needs_a_reason_and_a_change() -> None:
    stock = item()
    with pytest.raises(InventoryError, match=r"^an adjustment needs a reason$"):
        stock.adjust(-1, reason="  ", actor="staff", now=T0)
    with pytest.raises(InventoryError, match=r"^an adjustment must change the quantity$"):
        stock.adjust(0, reason="count", actor="staff", now=T0)
    stock.adjust(-3, reason="damaged", actor="staff:bo", now=T0)
    assert stock.on_hand == 7
    (movement,) = stock.pull_movements()
    assert (movement.kind, movement.on_hand_delta, movement.reason, movement.actor, movement.reference) == (
        MovementKind.ADJUSTED, -3, "damaged", "staff:bo", "")


def test_on_hand_never_drops_below_what_is_reserved_and_committed() -> None:
    stock = item(on_hand=10, reserved=4, committed=3)
    stock.adjust(-3, reason="count", actor="staff", now=T0)
    assert stock.available == 0
    with pytest.raises(InsufficientStock, match=r"^A@main: adjusted would leave on_hand=6 reserved=4 committed=3$"):
        stock.adjust(-1, reason="count", actor="staff", now=T0)
    with pytest.raises(InsufficientStock):
        stock.reserve(1, reservation_id="r", now=T0)
    assert (stock.on_hand, stock.version) == (7, 1)


def test_reserved_and_committed_never_go_below_zero() -> None:
    stock = item(on_hand=10, reserved=1, committed=1)
    with pytest.raises(InsufficientStock, match=r"reserved=-1"):
        stock.unreserve(2, reservation_id="r", expired=False, now=T0)
    with pytest.raises(InsufficientStock, match=r"committed=-1"):
        stock.uncommit(2, actor="s", reservation_id="r", now=T0)
    stock.unreserve(1, reservation_id="r", expired=False, now=T0)
    stock.uncommit(1, actor="s", reservation_id="r", now=T0)
    assert (stock.reserved, stock.committed) == (0, 0)


def test_transfers_move_on_hand_with_the_transfer_reason() -> None:
    source, target = item(location="a", on_hand=5), item(location="b", on_hand=0)
    source.transfer_out(5, actor="staff", reference="tr-1", now=T0)
    target.transfer_in(5, actor="staff", reference="tr-1", now=T0)
    assert (source.on_hand, target.on_hand) == (0, 5)
    (out,), (into,) = source.pull_movements(), target.pull_movements()
    assert (out.kind, out.on_hand_delta, out.reason, out.reference) == (MovementKind.TRANSFERRED_OUT, -5, "transfer",
                                                                         "tr-1")
    assert (into.kind, into.on_hand_delta, into.reason, into.actor) == (MovementKind.TRANSFERRED_IN, 5, "transfer",
                                                                        "staff")
    with pytest.raises(InsufficientStock):
        source.transfer_out(1, actor="staff", reference="tr-2", now=T0)


def test_the_ledger_folds_to_the_balance() -> None:
    stock = item(on_hand=0)
    stock.receive(10, actor="s", now=T0)
    stock.reserve(4, reservation_id="r", now=T0)
    stock.commit(3, reservation_id="r", now=T0)
    stock.unreserve(1, reservation_id="r", expired=True, now=T0)
    stock.ship(2, actor="s", reservation_id="r", now=T0)
    assert fold(stock.pull_movements()) == (stock.on_hand, stock.reserved, stock.committed) == (8, 0, 1)


def test_a_reconciliation_with_drift_raises_one_alert_naming_the_items() -> None:
    drift = Drift(sku="A", location_id="main", on_hand=5, reserved=0, ledger_on_hand=6, ledger_reserved=0)
    run = ReconciliationRun(id="rc-1", ran_at=T0, expired=2, drift=[drift])
    assert (run.id, run.ran_at, run.expired, run.drift, run.version) == ("rc-1", T0, 2, [drift], 1)
    assert run.pull_events() == [InventoryDriftDetected(aggregate_id="rc-1", aggregate_version=1, occurred_at=T0,
                                                        items=(drift,))]
    assert InventoryDriftDetected.topic == "inventory.drift_detected.v1"
    assert ReconciliationRun(id="rc-2", ran_at=T0, expired=0, drift=[]).pull_events() == []


# -- the ledger names who, what and when for every step -----------------------------------------------


def ledger(stock: StockItem) -> list[tuple[str, int, int, int, str, str, str, datetime]]:
    return [(m.kind.value, m.on_hand_delta, m.reserved_delta, m.committed_delta, m.actor, m.reason, m.reference,
             m.occurred_at) for m in stock.pull_movements()]


T3 = T0 + timedelta(minutes=3)
T4 = T0 + timedelta(minutes=4)


def test_a_hold_sold_and_shipped_leaves_a_dated_ledger_naming_the_reservation() -> None:
    reservation, items = hold({"A": 2})
    reservation.commit(items, now=T1)
    reservation.ship(items, actor="staff:bo", now=T2)
    reservation.give_back(items, actor="staff:cy", now=T3)
    assert ledger(items[("A", "main")]) == [
        ("reserved", 0, 2, 0, "system", "checkout", "res-1", T0),
        ("committed", 0, -2, 2, "system", "paid", "res-1", T1),
        ("shipped", -2, 0, -2, "staff:bo", "shipped", "res-1", T2),
        ("returned", 2, 0, 0, "staff:cy", "returned", "res-1", T3),
    ]
    events = reservation.pull_events()
    assert [(e.occurred_at, e.aggregate_version) for e in events] == [(T0, 1), (T1, 2), (T2, 3), (T3, 4)]


def test_a_hold_cancelled_after_payment_is_dated_and_named_in_the_ledger() -> None:
    reservation, items = hold({"A": 2})
    reservation.reclaim_and_commit(items, now=T1)
    reservation.give_back(items, actor="staff:bo", now=T2)
    assert ledger(items[("A", "main")])[1:] == [
        ("committed", 0, -2, 2, "system", "paid", "res-1", T1),
        ("released", 0, 0, -2, "staff:bo", "order cancelled", "res-1", T2),
    ]
    assert [e.occurred_at for e in reservation.pull_events()] == [T0, T1, T2]


@pytest.mark.parametrize(
    ("closing", "kind"), [("release", "released"), ("expire", "expired"), ("give_back", "released")]
)
def test_a_freed_hold_is_dated_and_named_in_the_ledger(closing: str, kind: str) -> None:
    reservation, items = hold({"A": 2})
    at = T0 + TTL if closing == "expire" else T1
    {
        "release": lambda: reservation.release(items, now=at),
        "expire": lambda: reservation.expire(items, now=at),
        "give_back": lambda: reservation.give_back(items, actor="staff", now=at),
    }[closing]()
    assert ledger(items[("A", "main")])[1:] == [(kind, 0, -2, 0, "system", kind, "res-1", at)]
    assert reservation.pull_events()[-1].occurred_at == at


def test_a_lapsed_hold_re_taken_and_shipped_is_dated_and_named_in_the_ledger() -> None:
    reservation, items = hold({"A": 2})
    reservation.expire(items, now=T0 + TTL)
    items[("A", "main")].pull_movements()
    reservation.ship(items, actor="staff:bo", now=T0 + TTL + T1.minute * timedelta(minutes=1))
    later = T0 + TTL + timedelta(minutes=1)
    assert ledger(items[("A", "main")]) == [
        ("reserved", 0, 2, 0, "system", "checkout", "res-1", later),
        ("committed", 0, -2, 2, "system", "paid", "res-1", later),
        ("shipped", -2, 0, -2, "staff:bo", "shipped", "res-1", later),
    ]
    assert [e.occurred_at for e in reservation.pull_events()][-2:] == [later, later]


def test_a_re_taken_hold_that_was_never_shipped_records_its_commit_time() -> None:
    reservation, items = hold({"A": 2})
    reservation.release(items, now=T1)
    reservation.pull_events()
    reservation.reclaim_and_commit(items, now=T4)
    assert [e.occurred_at for e in reservation.pull_events()] == [T4]
    assert [m[-1] for m in ledger(items[("A", "main")])][-2:] == [T4, T4]


def test_every_stock_movement_carries_its_actor_reference_and_time() -> None:
    stock = item(on_hand=10)
    stock.adjust(-1, reason="count", actor="staff:a", now=T1)
    stock.reserve(3, reservation_id="r1", now=T2)
    stock.unreserve(1, reservation_id="r1", expired=False, now=T3)
    stock.commit(2, reservation_id="r1", now=T4)
    stock.uncommit(1, actor="staff:b", reservation_id="r1", now=T1)
    stock.ship(1, actor="staff:c", reservation_id="r1", now=T2)
    stock.give_back(1, actor="staff:d", reference="rma-1", now=T3)
    stock.transfer_out(2, actor="staff:e", reference="tr-1", now=T4)
    stock.transfer_in(1, actor="staff:f", reference="tr-2", now=T1)
    assert ledger(stock) == [
        ("adjusted", -1, 0, 0, "staff:a", "count", "", T1),
        ("reserved", 0, 3, 0, "system", "checkout", "r1", T2),
        ("released", 0, -1, 0, "system", "released", "r1", T3),
        ("committed", 0, -2, 2, "system", "paid", "r1", T4),
        ("released", 0, 0, -1, "staff:b", "order cancelled", "r1", T1),
        ("shipped", -1, 0, -1, "staff:c", "shipped", "r1", T2),
        ("returned", 1, 0, 0, "staff:d", "returned", "rma-1", T3),
        ("transferred_out", -2, 0, 0, "staff:e", "transfer", "tr-1", T4),
        ("transferred_in", 1, 0, 0, "staff:f", "transfer", "tr-2", T1),
    ]


def test_new_stock_items_and_reservations_start_empty_at_version_zero() -> None:
    stock = StockItem(sku="A", location_id="main")
    assert (stock.on_hand, stock.reserved, stock.committed, stock.version, stock.available) == (0, 0, 0, 0, 0)
    assert (stock.events, stock.movements) == ([], [])
    loaded = Reservation(id="r", reference="c", lines=[], status=R.ACTIVE, expires_at=T1, created_at=T0)
    assert (loaded.version, loaded.events) == (0, [])


def test_an_unknown_component_status_ranks_below_everything_known() -> None:
    assert bundle_status(["low", "mystery"]) == "mystery"
    assert bundle_status(["sold_out", "mystery"]) == "mystery"
