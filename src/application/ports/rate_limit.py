from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after: int  # seconds until the window frees up; 0 when allowed


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one attempt under ``key``; refuse past ``limit`` attempts per window."""
        ...

    async def check(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Whether ``key`` is already past ``limit`` in the current window, without counting."""
        ...
