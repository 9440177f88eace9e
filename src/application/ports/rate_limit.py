from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after: int  # seconds until the window frees up; 0 when allowed
    empty: tuple[str, ...] = ()  # the keys whose bucket a refused ``take`` found without a token


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenBucket:
    """At most ``burst`` tokens, one more every ``1 / rate`` seconds; each admitted call takes one.

    A bucket nobody took from is full. A rate of 0 would never refill and a burst of 0 would admit nothing:
    a caller turns a limit off by asking for no bucket, so neither is accepted."""

    rate: float  # tokens a second
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"a token bucket needs a rate above 0 and a burst of 1 or more, not {self}")

    @property
    def interval_ms(self) -> int:
        """Whole milliseconds per token: every adapter counts in them, so they agree to the millisecond."""
        return max(1, round(1000 / self.rate))


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

    async def take(self, buckets: Mapping[str, TokenBucket]) -> RateDecision:
        """Take one token from the bucket of each key, from all of them or from none, atomically.

        Refused when any is empty: nothing is taken, ``empty`` names the empty ones and ``retry_after`` says
        in how many seconds (at least 1) each holds a token again. A bucket is forgotten once it is full."""
        ...

    async def clear(self, key: str) -> None:
        """Forget ``key`` (its counts, delays and bucket)."""
        ...
