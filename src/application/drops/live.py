"""The drops a checkout must respect, kept in each serving process between changes.

Every payment asks which drops sell its SKUs (their purchase limits, their payment rule). Drops change
rarely, so the ones not over are read once and kept while the shared catalog version stands (a drop's
change records a ``drops.`` event, whose commit bumps it), and at most ``max_age`` seconds as a safety
net for a bump lost with Redis; with no version to go by (Redis unreachable) they are read every time.
Which of them is open, sold out or ended is worked out from the clock at each question.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime

from application.catalog.snapshot import CatalogVersion
from application.drops.ports import DropUnitOfWork
from domain.drops.drop import Drop, DropPhase

OVER = (DropPhase.CANCELLED, DropPhase.ENDED)


class LiveDrops:
    def __init__(self, uow: Callable[[], DropUnitOfWork], version: CatalogVersion | None = None, *,
                 max_age: float = 60.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._uow = uow
        self._version = version
        self._max_age = max_age
        self._monotonic = monotonic
        self._kept: list[Drop] | None = None
        self._seen: int | None = None
        self._since = 0.0

    async def selling(self, skus: Iterable[str], *, at: datetime) -> list[Drop]:
        """The drops not over at ``at`` that sell any of ``skus``, by opening."""
        wanted = set(skus)
        return [drop for drop in await self._live(at) if wanted.intersection(drop.terms.skus)
                and drop.phase(at) not in OVER]

    async def find(self, drop_id: str, *, at: datetime) -> Drop | None:
        """The drop, if it is not over at ``at``."""
        return next((drop for drop in await self._live(at) if drop.id == drop_id and drop.phase(at) not in OVER),
                    None)

    def forget(self) -> None:
        """Read the drops again at the next question (this process just changed one)."""
        self._kept = None

    async def _live(self, at: datetime) -> list[Drop]:
        version = await self._version.current() if self._version is not None else None
        if (self._kept is None or version is None or version != self._seen
                or self._monotonic() - self._since > self._max_age):
            async with self._uow() as tx:
                self._kept = await tx.drops.live(at=at)
            self._seen, self._since = version, self._monotonic()
        return self._kept
