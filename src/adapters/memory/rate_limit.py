from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from application.ports.rate_limit import RateDecision, Throttle


class MemoryRateLimiter:
    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._windows: dict[str, tuple[float, int]] = {}
        self._throttles: dict[str, tuple[int, float, float]] = {}  # attempts, last counted, not before

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

    async def throttle(self, key: str, *, policy: Throttle) -> RateDecision:
        now = self._now().timestamp()
        attempts, last, not_before = self._throttles.get(key, (0, now, now))
        if now - last >= policy.window_seconds and now >= not_before:
            attempts = 0
        if now < not_before:
            return RateDecision(False, max(math.ceil(not_before - now), 1))
        attempts += 1
        self._throttles[key] = (attempts, now, now + policy.delay_after(attempts))
        return RateDecision(True, 0)

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)
        self._throttles.pop(key, None)
