"""In-memory promotions, coupons and usage counters (the fake of the PostgreSQL repository)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from typing import Any

from adapters.memory.versions import MemoryVersions
from application.promotions.errors import CouponExhausted, PromotionExhausted
from application.promotions.ports import (
    Coupon,
    Limits,
    Redemption,
    Usage,
)
from domain.promotions.errors import PromotionNotFound
from domain.promotions.promotion import Promotion, PromotionStatus
from domain.shared.errors import Conflict
from domain.shared.events import Aggregate


class MemoryPromotions:
    def __init__(self, data: dict[str, Any], seen: list[Aggregate], versions: MemoryVersions) -> None:
        self._rows: dict[str, tuple[Promotion, Limits]] = data.setdefault("promotions", {})
        self._usage: dict[str, Usage] = data.setdefault("promotion_usage", {})
        self._per_customer: dict[tuple[str, str], int] = data.setdefault("promotion_customer_usage", {})
        self._coupons: dict[str, Coupon] = data.setdefault("coupons", {})
        self._coupon_customer: dict[tuple[str, str], int] = data.setdefault("coupon_customer_usage", {})
        self._redeemed: dict[str, tuple[str, list[str], list[Redemption]]] = data.setdefault("redeemed_orders", {})
        self._seen = seen
        self._versions = versions

    async def add(self, promotion: Promotion, limits: Limits) -> None:
        self._rows[promotion.id] = (copy.deepcopy(promotion), limits)
        self._seen.append(promotion)
        self._versions.remember("promotion", promotion.id, promotion.version)

    async def get(self, promotion_id: str) -> tuple[Promotion, Limits]:
        try:
            promotion, limits = self._rows[promotion_id]
        except KeyError:
            raise PromotionNotFound(f"no promotion {promotion_id}") from None
        promotion = copy.deepcopy(promotion)
        promotion.events = []  # events staged with the stored copy were written at its commit
        self._seen.append(promotion)
        self._versions.remember("promotion", promotion.id, promotion.version)
        return promotion, limits

    async def save(self, promotion: Promotion, limits: Limits) -> None:
        stored = self._versions.database.extra.get("promotions", {}).get(promotion.id)
        if not self._versions.changed("promotion", promotion.id, promotion.version,
                                      stored=None if stored is None else stored[0].version):
            return  # unchanged since it was loaded (limits change only with an edit, which bumps it)
        self._rows[promotion.id] = (copy.deepcopy(promotion), limits)
        self._versions.saved("promotion", promotion.id, promotion.version)

    async def all(self) -> list[Promotion]:
        return [copy.deepcopy(p) for p, _ in self._rows.values()]

    async def live(self, at: datetime) -> list[tuple[Promotion, Limits, Usage]]:
        return [
            (copy.deepcopy(p), limits, self._usage.get(p.id, Usage()))
            for p, limits in sorted(self._rows.values(), key=lambda row: row[0].id)
            if p.status is PromotionStatus.PUBLISHED
            and (p.starts_at is None or p.starts_at <= at) and (p.ends_at is None or at < p.ends_at)
        ]

    async def next_change(self, at: datetime) -> datetime | None:
        moments = [m for p, _ in self._rows.values() if p.status is PromotionStatus.PUBLISHED
                   for m in (p.starts_at, p.ends_at) if m is not None and m > at]
        return min(moments, default=None)

    async def usage(self, promotion_ids: list[str]) -> dict[str, Usage]:
        return {pid: self._usage.get(pid, Usage()) for pid in promotion_ids}

    async def add_coupons(self, coupons: list[Coupon]) -> None:
        clash = sorted(c.code for c in coupons if c.code in self._coupons)
        if clash:
            raise Conflict(f"coupon {clash[0]} exists")
        for coupon in coupons:
            self._coupons[coupon.code] = coupon

    async def coupons(self, codes: list[str]) -> dict[str, Coupon]:
        return {code: self._coupons[code] for code in codes if code in self._coupons}

    async def coupon_gated(self, promotion_ids: list[str]) -> set[str]:
        wanted = set(promotion_ids)
        return {c.promotion_id for c in self._coupons.values() if c.promotion_id in wanted}

    async def customer_usage(self, promotion_ids: list[str], customer_key: str) -> dict[str, int]:
        return {pid: self._per_customer.get((pid, customer_key), 0) for pid in promotion_ids}

    async def redeem(self, *, order_id: str, customer_key: str, coupon_codes: list[str],
                     redemptions: list[Redemption]) -> None:
        if order_id in self._redeemed:
            return
        for code in coupon_codes:
            coupon = self._coupons.get(code)
            if coupon is None or (coupon.usage_limit is not None and coupon.used >= coupon.usage_limit):
                raise CouponExhausted(f"coupon {code} has been used up")
            mine = self._coupon_customer.get((code, customer_key), 0)
            if coupon.per_customer_limit is not None and mine >= coupon.per_customer_limit:
                raise CouponExhausted(f"coupon {code} was already used by this customer")
            self._coupons[code] = replace(coupon, used=coupon.used + 1)
            self._coupon_customer[(code, customer_key)] = mine + 1
        for redemption in redemptions:
            _, limits = self._rows[redemption.promotion_id]
            usage = self._usage.get(redemption.promotion_id, Usage())
            spent = usage.spent.get(redemption.currency, 0) + redemption.amount
            budget = limits.budget.get(redemption.currency)
            mine = self._per_customer.get((redemption.promotion_id, customer_key), 0)
            if ((limits.max_redemptions is not None and usage.redemptions >= limits.max_redemptions)
                    or (budget is not None and spent > budget)
                    or (limits.per_customer is not None and mine >= limits.per_customer)):
                raise PromotionExhausted(f"promotion {redemption.promotion_id} reached its limit")
            self._usage[redemption.promotion_id] = Usage(
                redemptions=usage.redemptions + 1, spent={**usage.spent, redemption.currency: spent},
            )
            self._per_customer[(redemption.promotion_id, customer_key)] = mine + 1
        self._redeemed[order_id] = (customer_key, list(coupon_codes), list(redemptions))

    async def release(self, order_id: str) -> None:
        taken = self._redeemed.pop(order_id, None)
        if taken is None:
            return
        customer_key, codes, redemptions = taken
        for code in codes:
            coupon = self._coupons[code]
            self._coupons[code] = replace(coupon, used=max(coupon.used - 1, 0))
            key = (code, customer_key)
            self._coupon_customer[key] = max(self._coupon_customer.get(key, 0) - 1, 0)
        for r in redemptions:
            usage = self._usage.get(r.promotion_id, Usage())
            spent = {**usage.spent, r.currency: usage.spent.get(r.currency, 0) - r.amount}
            self._usage[r.promotion_id] = Usage(redemptions=max(usage.redemptions - 1, 0), spent=spent)
            key2 = (r.promotion_id, customer_key)
            self._per_customer[key2] = max(self._per_customer.get(key2, 0) - 1, 0)
