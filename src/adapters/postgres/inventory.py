"""PostgreSQL stock: row locks in (sku, location) order, CHECK constraints as the last line of
defence, and the ledger appended in the same transaction as the balance. Reservations are in
``reservations``; the reservation hot path's SQL in ``placement``."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import and_, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from adapters.postgres import tables as t
from adapters.postgres.pipeline import Flushing, Pipeline, json_rows
from adapters.postgres.placement import (
    _APPEND_MOVEMENTS,
    _HELD,
    _LOCK,
    _LOCK_HELD,
    _LOCK_RESERVATIONS,
    _POLICIES,
    _RESERVATION_LINES,
    _SAVE_BALANCES,
)
from application.inventory.ports import Closing, Placement, StockKey
from domain.inventory.errors import UnknownLocation
from domain.inventory.reservation import Reservation, ReservationLine, ReservationStatus, SkuPolicy
from domain.inventory.stock import Drift, Location, Movement, MovementKind, StockItem
from domain.shared.events import Aggregate

_s = t.stock_items
_loc = t.inventory_locations
_r = t.reservations  # read by drift()
_rl = t.reservation_lines


def _item(row: Any) -> StockItem:
    return StockItem(
        sku=row.sku, location_id=row.location_id, on_hand=row.on_hand, reserved=row.reserved,
        committed=row.committed, version=row.version,
    )


def _policy(row: Any) -> SkuPolicy:
    return SkuPolicy(
        sku=row.sku, track_inventory=row.track_inventory, allow_backorder=row.allow_backorder,
        low_stock_threshold=row.low_stock_threshold, show_quantity=row.show_quantity,
    )


class PostgresStockRepository:
    def __init__(self, conn: Flushing, seen: list[Aggregate], pipeline: Pipeline) -> None:
        self._conn = conn  # sends staged writes before each statement
        self._seen = seen
        self._pipeline = pipeline

    async def lock_for_placement(self, skus: Iterable[str], references: list[str]) -> Placement:
        wanted = sorted(set(skus))
        policies, locked, held = await self._pipeline.query(
            (_POLICIES, (wanted,)), (_LOCK, (wanted,)), (_HELD, (references,))
        )
        stock: dict[str, list[StockItem]] = {sku: [] for sku in wanted}
        for row in sorted(locked, key=lambda r: (r.sku, r.priority, r.location_id)):
            stock[row.sku].append(_item(row))
        self._track([i for items in stock.values() for i in items])
        return Placement(
            stock=stock, policies={r.sku: _policy(r) for r in policies}, held={r.reference for r in held}
        )

    async def lock_for_closing(self, unless: Mapping[str, Collection[ReservationStatus]]) -> Closing:
        wanted = sorted(unless)
        needs = json_rows([{"id": rid, "unless": sorted(s.value for s in unless[rid])} for rid in wanted])
        heads, lines, locked = await self._pipeline.query(
            (_LOCK_RESERVATIONS, (wanted,)), (_RESERVATION_LINES, (wanted,)), (_LOCK_HELD, (needs,))
        )
        held: dict[str, list[ReservationLine]] = {}
        for line in lines:
            held.setdefault(line.reservation_id, []).append(
                ReservationLine(sku=line.sku, location_id=line.location_id, quantity=line.quantity)
            )
        reservations = {
            row.id: Reservation(
                id=row.id, reference=row.reference, status=ReservationStatus(row.status),
                expires_at=row.expires_at, created_at=row.created_at, version=row.version,
                lines=held.get(row.id, []),
            )
            for row in heads
        }
        self._seen.extend(reservations.values())
        stock = {(i.sku, i.location_id): i for i in self._track([_item(row) for row in locked])}
        return Closing(reservations=reservations, stock=stock)

    def _track(self, items: list[StockItem]) -> list[StockItem]:
        self._seen.extend(items)
        return items

    async def lock(self, skus: Iterable[str]) -> dict[str, list[StockItem]]:
        wanted = sorted(set(skus))
        rows = (
            await self._conn.execute(
                select(_s, func.coalesce(_loc.c.priority, 1_000_000).label("priority"))
                .select_from(_s.outerjoin(_loc, _loc.c.id == _s.c.location_id))
                .where(_s.c.sku.in_(wanted))
                .order_by(_s.c.sku, _s.c.location_id)
                .with_for_update(of=_s)
            )
        ).all()
        result: dict[str, list[StockItem]] = {sku: [] for sku in wanted}
        for row in sorted(rows, key=lambda r: (r.sku, r.priority, r.location_id)):
            result[row.sku].append(_item(row))
        self._track([i for items in result.values() for i in items])
        return result

    async def lock_keys(self, keys: Iterable[StockKey]) -> dict[StockKey, StockItem]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        rows = (
            await self._conn.execute(
                select(_s)
                .where(tuple_(_s.c.sku, _s.c.location_id).in_(wanted))
                .order_by(_s.c.sku, _s.c.location_id)
                .with_for_update()
            )
        ).all()
        return {(i.sku, i.location_id): i for i in self._track([_item(r) for r in rows])}

    async def get_or_create(self, sku: str, location_id: str) -> StockItem:
        if await self._conn.scalar(select(literal(1)).where(_loc.c.id == location_id)) is None:
            raise UnknownLocation(location_id)
        await self._conn.execute(
            pg_insert(_s)
            .values(sku=sku, location_id=location_id, on_hand=0, reserved=0, committed=0, version=0)
            .on_conflict_do_nothing()
        )
        return (await self.lock_keys([(sku, location_id)]))[(sku, location_id)]

    async def save(self, items: Iterable[StockItem]) -> None:
        balances: list[dict[str, Any]] = []
        movements: list[dict[str, Any]] = []
        for item in items:
            pending = item.pull_movements()
            if not pending:
                continue
            balances.append({"sku": item.sku, "location_id": item.location_id, "on_hand": item.on_hand,
                             "reserved": item.reserved, "committed": item.committed, "version": item.version})
            movements.extend(
                {"sku": m.sku, "location_id": m.location_id, "kind": m.kind.value, "on_hand_delta": m.on_hand_delta,
                 "reserved_delta": m.reserved_delta, "committed_delta": m.committed_delta, "actor": m.actor,
                 "reason": m.reason, "reference": m.reference, "occurred_at": m.occurred_at}
                for m in pending
            )
        if balances:
            self._pipeline.stage(_SAVE_BALANCES, (json_rows(balances),))
            self._pipeline.stage(_APPEND_MOVEMENTS, (json_rows(movements),))

    async def levels(self, sku: str) -> list[StockItem]:
        rows = (
            await self._conn.execute(
                select(_s)
                .select_from(_s.outerjoin(_loc, _loc.c.id == _s.c.location_id))
                .where(_s.c.sku == sku)
                .order_by(func.coalesce(_loc.c.priority, 1_000_000), _s.c.location_id)
            )
        ).all()
        return [_item(r) for r in rows]

    async def available(self, skus: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(skus))
        totals = dict.fromkeys(wanted, 0)
        rows = await self._conn.execute(
            select(_s.c.sku, func.sum(_s.c.on_hand - _s.c.reserved - _s.c.committed))
            .where(_s.c.sku.in_(wanted)).group_by(_s.c.sku)
        )
        for sku, available in rows:
            totals[sku] = int(available)
        return totals

    async def movements(self, sku: str, limit: int) -> list[Movement]:
        m = t.stock_movements
        rows = (await self._conn.execute(select(m).where(m.c.sku == sku).order_by(m.c.id.desc()).limit(limit))).all()
        return [
            Movement(
                sku=r.sku, location_id=r.location_id, kind=MovementKind(r.kind), on_hand_delta=r.on_hand_delta,
                reserved_delta=r.reserved_delta, committed_delta=r.committed_delta, actor=r.actor, reason=r.reason,
                reference=r.reference, occurred_at=r.occurred_at,
            )
            for r in rows
        ]

    async def drift(self) -> list[Drift]:
        m = t.stock_movements
        ledger = (
            select(
                m.c.sku, m.c.location_id, func.sum(m.c.on_hand_delta).label("on_hand"),
                func.sum(m.c.reserved_delta).label("reserved"), func.sum(m.c.committed_delta).label("committed"),
            )
            .group_by(m.c.sku, m.c.location_id)
            .subquery()
        )
        holds = (
            select(
                _rl.c.sku, _rl.c.location_id,
                func.sum(_rl.c.quantity).filter(_r.c.status == ReservationStatus.ACTIVE.value).label("reserved"),
                func.sum(_rl.c.quantity).filter(_r.c.status == ReservationStatus.COMMITTED.value).label("committed"),
            )
            .select_from(_rl.join(_r, _r.c.id == _rl.c.reservation_id))
            .where(_r.c.status.in_([ReservationStatus.ACTIVE.value, ReservationStatus.COMMITTED.value]))
            .group_by(_rl.c.sku, _rl.c.location_id)
            .subquery()
        )
        folded = [func.coalesce(ledger.c[column], 0).label(f"ledger_{column}")
                  for column in ("on_hand", "reserved", "committed")]
        held = [func.coalesce(holds.c[column], 0).label(f"holds_{column}") for column in ("reserved", "committed")]
        rows = (
            await self._conn.execute(
                select(_s.c.sku, _s.c.location_id, _s.c.on_hand, _s.c.reserved, _s.c.committed, *folded, *held)
                .select_from(
                    _s.outerjoin(ledger, and_(ledger.c.sku == _s.c.sku, ledger.c.location_id == _s.c.location_id))
                    .outerjoin(holds, and_(holds.c.sku == _s.c.sku, holds.c.location_id == _s.c.location_id))
                )
                .where(
                    (_s.c.on_hand != folded[0]) | (_s.c.reserved != folded[1]) | (_s.c.committed != folded[2])
                    | (_s.c.reserved != held[0]) | (_s.c.committed != held[1])
                )
                .order_by(_s.c.sku, _s.c.location_id)
            )
        ).all()
        return [
            Drift(sku=r.sku, location_id=r.location_id, on_hand=r.on_hand, reserved=r.reserved,
                  committed=r.committed, ledger_on_hand=int(r.ledger_on_hand), ledger_reserved=int(r.ledger_reserved),
                  ledger_committed=int(r.ledger_committed), holds_reserved=int(r.holds_reserved),
                  holds_committed=int(r.holds_committed))
            for r in rows
        ]

    async def policies(self, skus: Iterable[str]) -> dict[str, SkuPolicy]:
        p = t.inventory_policies
        rows = (await self._conn.execute(select(p).where(p.c.sku.in_(sorted(set(skus)))))).all()
        return {r.sku: _policy(r) for r in rows}

    async def set_policy(self, policy: SkuPolicy) -> None:
        values = {
            "track_inventory": policy.track_inventory, "allow_backorder": policy.allow_backorder,
            "low_stock_threshold": policy.low_stock_threshold, "show_quantity": policy.show_quantity,
        }
        statement = pg_insert(t.inventory_policies).values(sku=policy.sku, **values)
        await self._conn.execute(statement.on_conflict_do_update(index_elements=["sku"], set_=values))

    async def add_location(self, location: Location) -> None:
        values = {"name": location.name, "priority": location.priority}
        statement = pg_insert(_loc).values(id=location.id, **values)
        await self._conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))

    async def locations(self) -> list[Location]:
        rows = (await self._conn.execute(select(_loc).order_by(_loc.c.priority, _loc.c.id))).all()
        return [Location(id=r.id, name=r.name, priority=r.priority) for r in rows]

    async def tracked_skus(self) -> list[str]:
        return list((await self._conn.scalars(select(_s.c.sku).distinct().order_by(_s.c.sku))).all())
