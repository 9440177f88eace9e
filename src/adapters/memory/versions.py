"""What the fake repositories remember in their unit of work: the version of each aggregate they loaded or
added. A unit of work works on a copy of the database taken when it began; a save is stale when another
unit of work has committed that aggregate since (as PostgreSQL's ``WHERE version = <remembered>`` finds)."""

from __future__ import annotations

from adapters.memory.database import MemoryDatabase
from application.ports.errors import NotLoaded
from domain.shared.errors import ConcurrencyConflict


class MemoryVersions:
    def __init__(self, database: MemoryDatabase) -> None:
        self.database = database  # the committed database (a repository's own data is the unit of work's copy)
        self._remembered: dict[tuple[str, str], int] = {}
        self._committed: dict[tuple[str, str], int] = {}  # what the database held when this unit of work saw it

    def remember(self, kind: str, key: str, version: int) -> None:
        self._remembered[(kind, key)] = version
        self._committed.setdefault((kind, key), version)

    def changed(self, kind: str, key: str, version: int, *, stored: int | None) -> bool:
        """Whether saving the aggregate at ``version`` writes anything: not when it is at the version
        loaded (or last saved) in this unit of work. ``ConcurrencyConflict`` when the database now holds
        another version (``stored``; ``None``: none yet) than this unit of work saw."""
        try:
            remembered = self._remembered[(kind, key)]
        except KeyError:
            raise NotLoaded(f"{kind} {key} was not loaded in this unit of work") from None
        if version == remembered:
            return False
        if stored is not None and stored != self._committed[(kind, key)]:
            raise ConcurrencyConflict(f"{kind} {key} changed since it was read")
        return True

    def saved(self, kind: str, key: str, version: int) -> None:
        self._remembered[(kind, key)] = version

    def rebase(self) -> None:
        """The unit of work committed: its saves are what the database holds now."""
        self._committed = dict(self._remembered)
