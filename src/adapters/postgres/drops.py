"""Drops in columns: the terms, the cancelled and sold-out moments, the version for optimistic saves."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.pipeline import Flushing, Pipeline
from adapters.postgres.versions import LoadedVersions
from application.drops.rooms import TicketRecord
from domain.drops.drop import Drop, DropNotFound, DropTerms
from domain.shared.errors import ConcurrencyConflict, Conflict
from domain.shared.events import Aggregate

_d = t.drops


def _row(drop: Drop) -> dict[str, Any]:
    terms = drop.terms
    return {
        "name": terms.name, "skus": list(terms.skus), "opens_at": terms.opens_at, "ends_at": terms.ends_at,
        "time_zone": terms.time_zone, "per_customer_limit": terms.per_customer_limit,
        "online_payment_only": terms.online_payment_only, "waiting_room": terms.waiting_room,
        "admission_rate": terms.admission_rate, "cancelled_at": drop.cancelled_at, "sold_out_at": drop.sold_out_at,
        "version": drop.version,
    }


def _drop(row: Row[Any]) -> Drop:
    terms = DropTerms(
        name=row.name, skus=tuple(row.skus), opens_at=row.opens_at, ends_at=row.ends_at, time_zone=row.time_zone,
        per_customer_limit=row.per_customer_limit, online_payment_only=row.online_payment_only,
        waiting_room=row.waiting_room, admission_rate=row.admission_rate,
    )
    return Drop(id=row.id, terms=terms, cancelled_at=row.cancelled_at, sold_out_at=row.sold_out_at,
                version=row.version)


class PostgresDrops:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen
        self._versions = LoadedVersions("drop")

    def _loaded(self, row: Row[Any]) -> Drop:
        drop = _drop(row)
        self._seen.append(drop)
        self._versions.remember(drop.id, drop.version)
        return drop

    async def add(self, drop: Drop) -> None:
        await self._conn.execute(insert(_d).values(id=drop.id, **_row(drop)))
        self._seen.append(drop)
        self._versions.remember(drop.id, drop.version)

    async def get(self, drop_id: str) -> Drop:
        row = (await self._conn.execute(select(_d).where(_d.c.id == drop_id).with_for_update())).first()
        if row is None:
            raise DropNotFound(f"no drop {drop_id}")
        return self._loaded(row)

    async def save(self, drop: Drop) -> None:
        expected = self._versions.expected(drop.id)
        if drop.version == expected:
            return
        result = await self._conn.execute(
            update(_d).where(_d.c.id == drop.id, _d.c.version == expected).values(**_row(drop))
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"drop {drop.id} changed")
        self._versions.remember(drop.id, drop.version)

    async def all(self) -> list[Drop]:
        rows = await self._conn.execute(select(_d).order_by(_d.c.opens_at.desc(), _d.c.id.desc()))
        return [self._loaded(row) for row in rows]

    async def live(self, *, at: datetime) -> list[Drop]:
        return await self._not_over(at)

    async def selling(self, skus: Collection[str], *, at: datetime) -> list[Drop]:
        return await self._not_over(at, _d.c.skus.overlap(list(skus)))

    async def _not_over(self, at: datetime, *where: ColumnElement[bool]) -> list[Drop]:
        rows = await self._conn.execute(
            select(_d).where(*where, _d.c.cancelled_at.is_(None), or_(_d.c.ends_at.is_(None), _d.c.ends_at > at))
            .order_by(_d.c.opens_at, _d.c.id)
        )
        return [self._loaded(row) for row in rows]


_k = t.drop_tickets
_USE_TICKET = """
UPDATE drop_tickets SET used_by = %s WHERE id = %s AND (used_by IS NULL OR used_by = %s)
"""


class PostgresTickets:
    def __init__(self, conn: Flushing, pipeline: Pipeline) -> None:
        self._conn = conn
        self._pipeline = pipeline

    async def issue(self, tickets: Sequence[tuple[str, str, TicketRecord]]) -> list[TicketRecord]:
        """One INSERT for them all (a holder's ticket already there is left alone), then one read of what
        each holder holds now."""
        if not tickets:
            return []
        await self._conn.execute(pg_insert(_k).values([
            {"id": ticket.ticket_id, "drop_id": drop_id, "holder": holder, "joined_at": ticket.joined_at,
             "draw_key": ticket.draw_key}
            for drop_id, holder, ticket in tickets
        ]).on_conflict_do_nothing())
        wanted = sorted({(drop_id, holder) for drop_id, holder, _ in tickets})
        rows = await self._conn.execute(
            select(_k.c.drop_id, _k.c.holder, _k.c.id, _k.c.joined_at, _k.c.draw_key)
            .where(tuple_(_k.c.drop_id, _k.c.holder).in_(wanted))
        )
        held = {(r.drop_id, r.holder): TicketRecord(ticket_id=r.id, joined_at=r.joined_at, draw_key=r.draw_key)
                for r in rows}
        missing = [ticket.ticket_id for drop_id, holder, ticket in tickets if (drop_id, holder) not in held]
        if missing:
            raise Conflict(f"tickets {', '.join(missing)} belong to other shoppers")
        return [held[(drop_id, holder)] for drop_id, holder, _ in tickets]

    async def records(self, drop_id: str) -> tuple[list[TicketRecord], list[str]]:
        rows = (await self._conn.execute(
            select(_k.c.id, _k.c.joined_at, _k.c.draw_key, _k.c.admitted_at).where(_k.c.drop_id == drop_id)
        )).all()
        return ([TicketRecord(ticket_id=r.id, joined_at=r.joined_at, draw_key=r.draw_key) for r in rows],
                [r.id for r in rows if r.admitted_at is not None])

    async def admitted(self, ticket_ids: Collection[str], *, at: datetime) -> None:
        if ticket_ids:
            await self._conn.execute(
                update(_k).where(_k.c.id.in_(sorted(ticket_ids)), _k.c.admitted_at.is_(None)).values(admitted_at=at)
            )

    async def used_by(self, ticket_id: str) -> str | None:
        used: str | None = await self._conn.scalar(select(_k.c.used_by).where(_k.c.id == ticket_id))
        return used

    async def counts(self, drop_id: str) -> dict[str, int]:
        row = (await self._conn.execute(
            select(func.count(), func.count(_k.c.admitted_at), func.count(_k.c.used_by)).where(_k.c.drop_id == drop_id)
        )).one()
        return {"issued": row[0], "admitted": row[1], "used": row[2]}

    async def settled(self, drop_id: str, *, lapsed_before: datetime) -> int:
        settled: int = await self._conn.scalar(select(func.count()).where(
            _k.c.drop_id == drop_id, or_(_k.c.used_by.is_not(None), _k.c.admitted_at < lapsed_before)))
        return settled

    async def use(self, ticket_id: str, checkout_id: str) -> None:
        self._pipeline.stage(_USE_TICKET, (checkout_id, ticket_id, checkout_id),
                             expect_one=f"ticket {ticket_id}")
