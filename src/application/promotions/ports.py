"""Where promotions, their coupons and their usage live."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from application.catalog.ports import ProductReads
from application.ports.unit_of_work import UnitOfWork
from domain.promotions.promotion import Promotion


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Stateful limits, enforced atomically when an order is placed (not part of a version)."""

    max_redemptions: int | None = None
    per_customer: int | None = None
    budget: dict[str, int] = field(default_factory=dict)  # currency -> most discount to give, minor units


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    redemptions: int = 0
    spent: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Coupon:
    code: str
    promotion_id: str
    usage_limit: int | None = None  # None: unlimited
    per_customer_limit: int | None = None
    used: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Redemption:
    """What one placed order took from one promotion."""

    promotion_id: str
    version: int
    amount: int
    currency: str


class PromotionRepository(Protocol):
    async def add(self, promotion: Promotion, limits: Limits) -> None: ...

    async def get(self, promotion_id: str) -> tuple[Promotion, Limits]: ...

    async def save(self, promotion: Promotion, limits: Limits) -> None: ...

    async def all(self) -> list[Promotion]: ...

    async def live(self, at: datetime) -> list[tuple[Promotion, Limits, Usage]]:
        """Published, unarchived promotions in their window at ``at``, with their limits and current usage."""
        ...

    async def next_change(self, at: datetime) -> datetime | None:
        """The first moment after ``at`` at which a published, unarchived promotion starts or ends (what
        ``live`` answers may change then); ``None`` when none is scheduled."""
        ...

    async def usage(self, promotion_ids: list[str]) -> dict[str, Usage]:
        """The current usage of these promotions (each id present)."""
        ...

    async def add_coupons(self, coupons: list[Coupon]) -> None:
        """Register codes; a code that exists already is a ``Conflict``."""
        ...

    async def coupons(self, codes: list[str]) -> dict[str, Coupon]: ...

    async def coupon_gated(self, promotion_ids: list[str]) -> set[str]:
        """Which of these promotions need a coupon (they have at least one)."""
        ...

    async def customer_usage(self, promotion_ids: list[str], customer_key: str) -> dict[str, int]:
        """How often this customer already redeemed each promotion."""
        ...

    async def redeem(self, *, order_id: str, customer_key: str, coupon_codes: list[str],
                     redemptions: list[Redemption]) -> None:
        """Count one use of each coupon and promotion for ``order_id`` — atomically, in the order's
        transaction: ``CouponExhausted`` / ``PromotionExhausted`` when a limit is reached."""
        ...


    async def release(self, order_id: str) -> None:
        """Give back what a cancelled order took (coupon uses, redemptions, budget, per-customer use)."""
        ...


class PromotionUnitOfWork(UnitOfWork, Protocol):
    promotions: PromotionRepository


class PreviewUnitOfWork(PromotionUnitOfWork, ProductReads, Protocol):
    """A preview prices real products under a promotion."""
