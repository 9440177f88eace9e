"""What a repository remembers in its unit of work: the version of each aggregate it loaded or added,
which its ``save`` expects to find still stored (``UPDATE … WHERE id = … AND version = <remembered>``)."""

from __future__ import annotations

from application.ports.errors import NotLoaded


class LoadedVersions:
    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._by_key: dict[str, int] = {}

    def remember(self, key: str, version: int) -> None:
        self._by_key[key] = version

    def expected(self, key: str) -> int:
        """The version loaded (or last saved) in this unit of work."""
        try:
            return self._by_key[key]
        except KeyError:
            raise NotLoaded(f"{self._kind} {key} was not loaded in this unit of work") from None
