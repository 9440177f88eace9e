from __future__ import annotations

import itertools
import secrets
import uuid
from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment


class SequentialIds:
    """Predictable, unique ids for tests."""

    def __init__(self, prefix: str = "") -> None:
        self._counter = itertools.count(1)
        self._prefix = prefix or uuid.uuid4().hex[:8]

    def new_id(self) -> str:
        return f"{self._prefix}-{next(self._counter):06d}"

    def new_secret(self) -> str:
        return secrets.token_urlsafe(32)
