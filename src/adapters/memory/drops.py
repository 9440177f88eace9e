from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from adapters.memory.versions import MemoryVersions
from application.drops.rooms import TicketRecord
from domain.drops.drop import Drop, DropNotFound, DropPhase
from domain.shared.errors import ConcurrencyConflict, Conflict
from domain.shared.events import Aggregate

OVER = (DropPhase.CANCELLED, DropPhase.ENDED)


class MemoryDrops:
    def __init__(self, data: dict[str, Any], seen: list[Aggregate], versions: MemoryVersions) -> None:
        self._rows: dict[str, Drop] = data.setdefault("drops", {})
        self._seen = seen
        self._versions = versions

    def _loaded(self, drop: Drop) -> Drop:
        loaded = copy.deepcopy(drop)
        loaded.events = []
        self._seen.append(loaded)
        self._versions.remember("drop", loaded.id, loaded.version)
        return loaded

    async def add(self, drop: Drop) -> None:
        if drop.id in self._rows:
            raise Conflict(f"drop {drop.id} exists")
        self._rows[drop.id] = copy.deepcopy(drop)
        self._seen.append(drop)
        self._versions.remember("drop", drop.id, drop.version)

    async def get(self, drop_id: str) -> Drop:
        try:
            return self._loaded(self._rows[drop_id])
        except KeyError:
            raise DropNotFound(f"no drop {drop_id}") from None

    async def save(self, drop: Drop) -> None:
        stored = self._versions.database.extra.get("drops", {}).get(drop.id)
        if not self._versions.changed("drop", drop.id, drop.version,
                                      stored=None if stored is None else stored.version):
            return
        self._rows[drop.id] = copy.deepcopy(drop)
        self._versions.saved("drop", drop.id, drop.version)

    async def all(self) -> list[Drop]:
        return [self._loaded(d) for d in sorted(self._rows.values(), key=lambda d: (d.terms.opens_at, d.id),
                                                 reverse=True)]

    async def live(self, *, at: datetime) -> list[Drop]:
        return [self._loaded(d) for d in sorted(self._rows.values(), key=lambda d: (d.terms.opens_at, d.id))
                if d.phase(at) not in OVER]

    async def selling(self, skus: Collection[str], *, at: datetime) -> list[Drop]:
        wanted = set(skus)
        return [self._loaded(d) for d in sorted(self._rows.values(), key=lambda d: (d.terms.opens_at, d.id))
                if wanted & set(d.terms.skus) and d.phase(at) not in OVER]


class MemoryTickets:
    def __init__(self, data: dict[str, Any]) -> None:
        # ticket id -> (drop id, holder, record, admitted at, used by)
        self._rows: dict[str, tuple[str, str, TicketRecord, datetime | None, str | None]] = data.setdefault(
            "drop_tickets", {})

    async def issue(self, tickets: Sequence[tuple[str, str, TicketRecord]]) -> list[TicketRecord]:
        return [self._issue(drop_id, holder, ticket) for drop_id, holder, ticket in tickets]

    def _issue(self, drop_id: str, holder: str, ticket: TicketRecord) -> TicketRecord:
        for drop, owner, record, _, _ in self._rows.values():
            if (drop, owner) == (drop_id, holder):
                return record
        if ticket.ticket_id in self._rows:
            raise Conflict(f"ticket {ticket.ticket_id} exists")
        self._rows[ticket.ticket_id] = (drop_id, holder, ticket, None, None)
        return ticket

    async def records(self, drop_id: str) -> tuple[list[TicketRecord], list[str]]:
        mine = [row for row in self._rows.values() if row[0] == drop_id]
        return [row[2] for row in mine], [row[2].ticket_id for row in mine if row[3] is not None]

    async def admitted(self, ticket_ids: Collection[str], *, at: datetime) -> None:
        for ticket_id in ticket_ids:
            if ticket_id in self._rows:
                drop, holder, record, admitted_at, used_by = self._rows[ticket_id]
                self._rows[ticket_id] = (drop, holder, record, admitted_at or at, used_by)

    async def used_by(self, ticket_id: str) -> str | None:
        row = self._rows.get(ticket_id)
        return None if row is None else row[4]

    async def counts(self, drop_id: str) -> dict[str, int]:
        mine = [row for row in self._rows.values() if row[0] == drop_id]
        return {"issued": len(mine), "admitted": sum(row[3] is not None for row in mine),
                "used": sum(row[4] is not None for row in mine)}

    async def settled(self, drop_id: str, *, lapsed_before: datetime) -> int:
        return sum(row[4] is not None or (row[3] is not None and row[3] < lapsed_before)
                   for row in self._rows.values() if row[0] == drop_id)

    async def use(self, ticket_id: str, checkout_id: str) -> None:
        row = self._rows.get(ticket_id)
        if row is None or row[4] not in (None, checkout_id):
            raise ConcurrencyConflict(f"ticket {ticket_id} was used by another checkout")
        self._rows[ticket_id] = (*row[:4], checkout_id)
