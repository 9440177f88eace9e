"""What the drops context needs of storage: the drops, in the unit of work's transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from application.drops.rooms import TicketRecord
from application.ports.unit_of_work import UnitOfWork
from domain.drops.drop import Drop


class DropRepository(Protocol):
    async def add(self, drop: Drop) -> None: ...

    async def get(self, drop_id: str) -> Drop:
        """The drop, locked for this transaction; ``DropNotFound`` otherwise."""
        ...

    async def save(self, drop: Drop) -> None: ...

    async def all(self) -> list[Drop]:
        """Every drop, the latest opening first."""
        ...

    async def live(self, *, at: datetime) -> list[Drop]:
        """The drops not over at ``at`` (neither cancelled nor ended), sorted by opening."""
        ...

    async def selling(self, skus: Collection[str], *, at: datetime) -> list[Drop]:
        """The drops that sell any of ``skus`` and are not over at ``at`` (neither cancelled nor ended):
        upcoming, open or sold out. Sorted by opening."""
        ...


class TicketBook(Protocol):
    """The waiting-room tickets issued, as PostgreSQL records them (a lost room is rebuilt from them)."""

    async def issue(self, tickets: Sequence[tuple[str, str, TicketRecord]]) -> list[TicketRecord]:
        """Record each (drop, holder, ticket) — or, where the holder has one for that drop already (an
        earlier one, or the first of this call), change nothing for it and answer that one: one answer
        per entry, in order."""
        ...

    async def records(self, drop_id: str) -> tuple[list[TicketRecord], list[str]]:
        """Every ticket of the drop, and the ids of those recorded admitted."""
        ...

    async def admitted(self, ticket_ids: Collection[str], *, at: datetime) -> None:
        """Record that these tickets were admitted (the first moment counts)."""
        ...

    async def used_by(self, ticket_id: str) -> str | None:
        """The checkout that used the ticket's admission, if one did."""
        ...

    async def counts(self, drop_id: str) -> dict[str, int]:
        """How many of the drop's tickets were ``issued``, ``admitted`` and ``used`` (by a checkout)."""
        ...

    async def settled(self, drop_id: str, *, lapsed_before: datetime) -> int:
        """How many of the drop's admissions are no longer outstanding: used by a checkout, or recorded
        admitted before ``lapsed_before`` (their tokens have expired) and unused."""
        ...

    async def use(self, ticket_id: str, checkout_id: str) -> None:
        """Record that ``checkout_id`` uses the ticket's admission, staged with this transaction; the
        transaction is refused (``ConcurrencyConflict``) if another checkout used it meanwhile."""
        ...


class DropUnitOfWork(UnitOfWork, Protocol):
    drops: DropRepository
    tickets: TicketBook
