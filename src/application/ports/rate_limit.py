from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after: int  # seconds until the window frees up; 0 when allowed


@dataclass(frozen=True, slots=True, kw_only=True)
class Throttle:
    """Progressive throttling: ``free`` attempts, then delays doubling from ``first_delay_seconds``."""

    free: int
    first_delay_seconds: int
    max_delay_seconds: int
    window_seconds: int

    def delay_after(self, attempts: int) -> int:
        """Seconds the next attempt waits once ``attempts`` have been counted (0 while some are free)."""
        if attempts < self.free:
            return 0
        doublings = min(attempts - self.free, 32)  # beyond that the cap has long been reached
        return min(self.first_delay_seconds << doublings, self.max_delay_seconds)


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one attempt under ``key``; refuse past ``limit`` attempts per window."""
        ...

    async def check(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Whether ``key`` is already past ``limit`` in the current window, without counting."""
        ...

    async def throttle(self, key: str, *, policy: Throttle) -> RateDecision:
        """Count one attempt under ``key`` and admit it, or refuse it without counting, atomically.

        The first ``policy.free`` attempts pass at once; after the n-th (n >= free) the next must wait
        ``first_delay_seconds * 2**(n - free)``, at most ``max_delay_seconds``. A refusal says how long
        is left and changes nothing; ``window_seconds`` after the last counted attempt the key is forgotten."""
        ...

    async def clear(self, key: str) -> None:
        """Forget ``key`` (its counts and delays)."""
        ...
