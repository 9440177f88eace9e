from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware UTC."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new unique, roughly time-ordered identifier."""
        ...

    def new_secret(self) -> str:
        """A new unguessable secret (tokens, coupon codes)."""
        ...
