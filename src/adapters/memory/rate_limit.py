from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from application.ports.rate_limit import RateDecision


class MemoryRateLimiter:
    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        now = self._now().timestamp()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds:
            started, count = now, 0
        count += 1
        self._windows[key] = (started, count)
        if count <= limit:
            return RateDecision(True, 0)
        return RateDecision(False, max(int(started + window_seconds - now), 1))

    async def check(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        now = self._now().timestamp()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds or count < limit:
            return RateDecision(True, 0)
        return RateDecision(False, max(int(started + window_seconds - now), 1))
