from __future__ import annotations


class RecordingCdnPurger:
    def __init__(self) -> None:
        self.purged: list[list[str]] = []

    async def purge(self, surrogate_keys: list[str]) -> None:
        self.purged.append(list(surrogate_keys))
