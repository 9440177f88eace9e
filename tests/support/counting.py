"""Test doubles for what is kept in a process: a unit-of-work factory that counts the units of work
opened (each one a database visit) and a monotonic clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class CountingUow:
    def __init__(self, uow: Callable[[], Any]) -> None:
        self.uow = uow
        self.opened = 0

    def __call__(self) -> Any:
        self.opened += 1
        return self.uow()


class HandClock:
    """``time.monotonic`` as the test sets it."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RecordingPricing:
    """The domain's ``price``, noting which promotions it was handed each time (``StoredPromotions(engine=…)``)."""

    def __init__(self) -> None:
        self.handed: list[list[str]] = []

    def __call__(self, context: Any, promotions: list[Any]) -> Any:
        from domain.promotions.engine import price

        self.handed.append(sorted(p.promotion_id for p in promotions))
        return price(context, promotions)
