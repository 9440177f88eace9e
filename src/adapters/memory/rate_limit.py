from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime

from application.ports.rate_limit import RateDecision, Throttle, TokenBucket


class MemoryRateLimiter:
    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._windows: dict[str, tuple[float, int]] = {}
        self._throttles: dict[str, tuple[int, float, float]] = {}  # attempts, last counted, not before
        self._full_at: dict[str, int] = {}  # a token bucket: the moment (ms) it is full again, as in Redis

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

    async def take(self, buckets: Mapping[str, TokenBucket]) -> RateDecision:
        now = int(self._now().timestamp() * 1000)
        full_at = {key: max(self._full_at.get(key, now), now) for key in buckets}
        short = {key: full_at[key] - now - (bucket.burst - 1) * bucket.interval_ms for key, bucket in buckets.items()}
        empty = tuple(key for key, wait in short.items() if wait > 0)
        if empty:
            return RateDecision(False, max(math.ceil(max(short.values()) / 1000), 1), empty)
        for key, bucket in buckets.items():
            self._full_at[key] = full_at[key] + bucket.interval_ms
        return RateDecision(True, 0)

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)
        self._throttles.pop(key, None)
        self._full_at.pop(key, None)
