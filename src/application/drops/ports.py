"""What the drops context needs of storage: the drops, in the unit of work's transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

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


class DropUnitOfWork(UnitOfWork, Protocol):
    drops: DropRepository
