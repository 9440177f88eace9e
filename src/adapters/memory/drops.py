from __future__ import annotations

import copy
from collections.abc import Collection
from datetime import datetime
from typing import Any

from adapters.memory.versions import MemoryVersions
from domain.drops.drop import Drop, DropNotFound, DropPhase
from domain.shared.errors import Conflict
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

