"""No promotions: the engine port answered with no discounts, until the promotions context lands."""

from __future__ import annotations

from datetime import datetime

from application.carts.ports import PromotionOutcome, PromotionRequest


class NoPromotions:
    async def apply(self, request: PromotionRequest) -> PromotionOutcome:
        return PromotionOutcome(rejected_coupons=dict.fromkeys(request.coupon_codes, "unknown coupon"))

    async def coupon_exists(self, code: str, *, at: datetime) -> bool:
        return False
