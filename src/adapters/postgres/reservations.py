"""PostgreSQL reservations (row-locked, one active hold per reference) and reconciliation runs."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.exc import IntegrityError

from adapters.postgres import tables as t
from adapters.postgres.pipeline import Flushing, Pipeline, json_rows
from adapters.postgres.placement import _ADD_RESERVATION_LINES, _ADD_RESERVATIONS, _SAVE_RESERVATION
from domain.inventory.audit import ReconciliationRun
from domain.inventory.errors import ReservationNotFound
from domain.inventory.limits import Cap
from domain.inventory.reservation import Reservation, ReservationLine, ReservationStatus
from domain.inventory.stock import Drift
from domain.shared.errors import Conflict
from domain.shared.events import Aggregate

_r = t.reservations
_rl = t.reservation_lines


class PostgresReservationRepository:
    def __init__(self, conn: Flushing, seen: list[Aggregate], pipeline: Pipeline) -> None:
        self._conn = conn  # sends staged writes before each statement
        self._seen = seen
        self._pipeline = pipeline

    async def add(self, reservation: Reservation) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(_r).values(
                        id=reservation.id, reference=reservation.reference, status=reservation.status.value,
                        expires_at=reservation.expires_at, created_at=reservation.created_at,
                        version=reservation.version,
                    )
                )
        except IntegrityError:
            raise Conflict(f"checkout {reservation.reference} already holds an active reservation") from None
        await self._conn.execute(
            insert(_rl),
            [
                {"reservation_id": reservation.id, "line_no": n, "sku": line.sku, "location_id": line.location_id,
                 "quantity": line.quantity}
                for n, line in enumerate(reservation.lines)
            ],
        )
        self._seen.append(reservation)

    async def add_many(self, reservations: list[Reservation]) -> None:
        # Staged for the commit, no savepoint per row: the group checked its references under the
        # stock locks; a racing duplicate from elsewhere fails the whole group (the unique index
        # on active references), which then retries one by one.
        self._pipeline.stage(_ADD_RESERVATIONS, (json_rows([
            {"id": r.id, "reference": r.reference, "status": r.status.value, "expires_at": r.expires_at,
             "created_at": r.created_at, "version": r.version}
            for r in reservations
        ]),))
        self._pipeline.stage(_ADD_RESERVATION_LINES, (json_rows([
            {"reservation_id": r.id, "line_no": n, "sku": line.sku, "location_id": line.location_id,
             "quantity": line.quantity}
            for r in reservations for n, line in enumerate(r.lines)
        ]),))
        self._seen.extend(reservations)

    async def get(self, reservation_id: str) -> Reservation:
        row = (await self._conn.execute(select(_r).where(_r.c.id == reservation_id).with_for_update())).first()
        if row is None:
            raise ReservationNotFound(reservation_id)
        lines = (
            await self._conn.execute(select(_rl).where(_rl.c.reservation_id == reservation_id).order_by(_rl.c.line_no))
        ).all()
        reservation = self._reservation(row, lines)
        self._seen.append(reservation)
        return reservation

    @staticmethod
    def _reservation(row: Any, lines: list[Any]) -> Reservation:
        return Reservation(
            id=row.id, reference=row.reference, status=ReservationStatus(row.status), expires_at=row.expires_at,
            created_at=row.created_at, version=row.version,
            lines=[ReservationLine(sku=r.sku, location_id=r.location_id, quantity=r.quantity) for r in lines],
        )

    async def save(self, reservation: Reservation) -> None:
        # Staged: it travels with the stock rows' writes and the COMMIT (one round trip under their lock).
        self._pipeline.stage(
            _SAVE_RESERVATION,
            (reservation.status.value, reservation.expires_at, reservation.version, reservation.id),
        )

    async def due_for_expiry(self, now: datetime, limit: int) -> list[str]:
        rows = await self._conn.scalars(
            select(_r.c.id)
            .where(_r.c.status == ReservationStatus.ACTIVE.value, _r.c.expires_at <= now)
            .order_by(_r.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(rows.all())

    async def in_flight(self, limit: int) -> list[Reservation]:
        rows = (
            await self._conn.execute(
                select(_r).where(_r.c.status == ReservationStatus.ACTIVE.value).order_by(_r.c.expires_at).limit(limit)
            )
        ).all()
        if not rows:
            return []
        lines = (
            await self._conn.execute(
                select(_rl).where(_rl.c.reservation_id.in_([r.id for r in rows])).order_by(_rl.c.line_no)
            )
        ).all()
        return [self._reservation(r, [line for line in lines if line.reservation_id == r.id]) for r in rows]

    async def count_in_flight(self) -> int:
        count = await self._conn.scalar(
            select(func.count()).select_from(_r).where(_r.c.status == ReservationStatus.ACTIVE.value)
        )
        return int(count or 0)

    async def add_run(self, run: ReconciliationRun) -> None:
        await self._conn.execute(
            insert(t.inventory_reconciliations).values(
                id=run.id, ran_at=run.ran_at, expired=run.expired, drift=msgspec.to_builtins(run.drift)
            )
        )
        self._seen.append(run)

    async def last_run(self) -> ReconciliationRun | None:
        ir = t.inventory_reconciliations
        row = (await self._conn.execute(select(ir).order_by(ir.c.ran_at.desc()).limit(1))).first()
        if row is None:
            return None
        run = ReconciliationRun(
            id=row.id, ran_at=row.ran_at, expired=row.expired, drift=msgspec.convert(row.drift, list[Drift])
        )
        run.events.clear()  # a loaded run must not re-announce its drift
        return run


_ADD_HOLDINGS = """
INSERT INTO buyer_holdings (reservation_id, sku, buyer, quantity, cap)
SELECT reservation_id, sku, buyer, quantity, cap
FROM jsonb_to_recordset(%s::jsonb) AS h(reservation_id text, sku text, buyer text, quantity int, cap int)
"""
_COUNTING = ("active", "committed", "shipped")


class PostgresBuyerHoldings:
    """Staged with the reservations they belong to (one statement at the commit); summed by (SKU, buyer)."""

    def __init__(self, conn: Flushing, pipeline: Pipeline) -> None:
        self._conn = conn
        self._pipeline = pipeline

    async def held(self, pairs: Collection[tuple[str, str]], *, excluding: str | None = None,
                   ) -> dict[tuple[str, str], int]:
        if not pairs:
            return {}
        h, r = t.buyer_holdings, t.reservations
        query = (
            select(h.c.sku, h.c.buyer, func.sum(h.c.quantity))
            .join(r, r.c.id == h.c.reservation_id)
            .where(tuple_(h.c.sku, h.c.buyer).in_(sorted(pairs)), r.c.status.in_(_COUNTING))
            .group_by(h.c.sku, h.c.buyer)
        )
        if excluding is not None:
            query = query.where(h.c.reservation_id != excluding)
        return {(sku, buyer): int(units) for sku, buyer, units in await self._conn.execute(query)}

    async def add(self, reservation_id: str, takes: Collection[tuple[Cap, int]]) -> None:
        if takes:
            self._pipeline.stage(_ADD_HOLDINGS, (json_rows([
                {"reservation_id": reservation_id, "sku": cap.sku, "buyer": cap.buyer, "quantity": units,
                 "cap": cap.limit}
                for cap, units in takes
            ]),))

    async def caps_of(self, reservation_id: str) -> list[tuple[Cap, int]]:
        h = t.buyer_holdings
        rows = await self._conn.execute(
            select(h.c.sku, h.c.buyer, h.c.cap, h.c.quantity).where(h.c.reservation_id == reservation_id)
            .order_by(h.c.sku, h.c.buyer)
        )
        return [(Cap(sku=sku, buyer=buyer, limit=cap), units) for sku, buyer, cap, units in rows]
