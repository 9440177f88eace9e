"""The catalog version of one process (the fake beside ``RedisCatalogVersion``)."""

from __future__ import annotations


class MemoryCatalogVersion:
    def __init__(self) -> None:
        self.value = 0

    async def current(self) -> int | None:
        return self.value

    async def bump(self) -> None:
        self.value += 1
