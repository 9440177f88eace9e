"""Promotions for merchandisers: draft, edit, preview on a cart, publish, schedule, archive, coupons."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody, PathParameter
from msgspec import Meta

from application.giftcards.handlers import GetGiftCard, IssueGiftCard
from application.promotions import handlers as p
from application.promotions.ports import Limits
from domain.staff.roles import Role
from entrypoints.http.auth import current_staff, roles, staff_guard
from entrypoints.http.decoding import MULTILINE
from entrypoints.http.dependencies import Bus

MERCHANDISER = roles(Role.MERCHANDISER)
OWNER = roles(Role.OWNER)
PromotionId = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Code = Annotated[str, Meta(min_length=1, max_length=64)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]


class MoneyIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    amount: Annotated[int, Meta(ge=0)]
    currency: Currency


class LimitsIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    max_redemptions: Annotated[int, Meta(ge=1)] | None = None
    per_customer: Annotated[int, Meta(ge=1)] | None = None
    budget: list[MoneyIn] = []

    def to_limits(self) -> Limits:
        return Limits(max_redemptions=self.max_redemptions, per_customer=self.per_customer,
                      budget={m.currency: m.amount for m in self.budget})


class TermsIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    rule: Annotated[str, Meta(min_length=1, max_length=4000), MULTILINE]
    priority: int = 0
    exclusive_group: Annotated[str, Meta(max_length=64)] | None = None
    not_combinable_with: list[str] = []
    max_discount_per_order: list[MoneyIn] = []
    coupon_codes: list[Code] = []

    def to_input(self) -> p.TermsInput:
        return p.TermsInput(
            name=self.name, rule=self.rule, priority=self.priority, exclusive_group=self.exclusive_group,
            not_combinable_with=tuple(self.not_combinable_with),
            max_discount_per_order=tuple((m.amount, m.currency) for m in self.max_discount_per_order),
            coupon_codes=tuple(self.coupon_codes),
        )


class PromotionIn(TermsIn, forbid_unknown_fields=True, kw_only=True):
    limits: LimitsIn | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class EditIn(TermsIn, forbid_unknown_fields=True, kw_only=True):
    limits: LimitsIn | None = None


class ScheduleIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class CouponsIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    codes: list[Code] = []
    generate: Annotated[int, Meta(ge=0, le=10_000)] = 0
    prefix: Annotated[str, Meta(max_length=20)] = ""
    usage_limit: Annotated[int, Meta(ge=1)] | None = 1
    per_customer_limit: Annotated[int, Meta(ge=1)] | None = None


class PreviewLine(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sku: Annotated[str, Meta(min_length=1, max_length=64)]
    quantity: Annotated[int, Meta(ge=1, le=999)]


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    lines: Annotated[list[PreviewLine], Meta(min_length=1, max_length=100)]
    currency: Currency
    coupon_codes: list[Code] = []
    customer_groups: list[str] = []
    first_order: bool = False
    shipping: Annotated[int, Meta(ge=0)] = 0



class AdminPromotionController(Controller):
    path = "/admin/promotions"
    tags = ["admin: promotions"]
    guards = [staff_guard]

    @post("/", operation_id="admin_create_promotion", opt=MERCHANDISER, status_code=201,
          summary="A new promotion, as a draft (the rule in its text form)")
    async def create(self, bus: Bus, data: JSONBody[PromotionIn]) -> dict[str, Any]:
        return await bus.handle(p.CreatePromotion(
            terms=data.to_input(), limits=data.limits.to_limits() if data.limits else Limits(),
            starts_at=data.starts_at, ends_at=data.ends_at,
        ))

    @get("/", operation_id="admin_list_promotions", opt=MERCHANDISER)
    async def list_all(self, bus: Bus, request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
        return await bus.handle(p.ListPromotions())

    @get("/{promotion_id:str}", operation_id="admin_get_promotion", opt=MERCHANDISER, summary="With all versions")
    async def get_one(self, bus: Bus, promotion_id: PromotionId) -> dict[str, Any]:
        return await bus.handle(p.GetPromotion(promotion_id=promotion_id))

    @put("/{promotion_id:str}", operation_id="admin_edit_promotion", opt=MERCHANDISER,
         summary="Edit the draft; editing a published promotion starts a new version")
    async def edit(self, bus: Bus, promotion_id: PromotionId,
                   data: JSONBody[EditIn]) -> dict[str, Any]:
        return await bus.handle(p.EditPromotion(
            promotion_id=promotion_id, terms=data.to_input(), limits=data.limits.to_limits() if data.limits else None,
        ))

    @post("/{promotion_id:str}/publish", operation_id="admin_publish_promotion", opt=MERCHANDISER, status_code=200)
    async def publish(self, bus: Bus, promotion_id: PromotionId) -> dict[str, Any]:
        return await bus.handle(p.PublishPromotion(promotion_id=promotion_id))

    @post("/{promotion_id:str}/schedule", operation_id="admin_schedule_promotion", opt=MERCHANDISER,
          status_code=200)
    async def schedule(self, bus: Bus, promotion_id: PromotionId,
                       data: JSONBody[ScheduleIn]) -> dict[str, Any]:
        return await bus.handle(
            p.SchedulePromotion(promotion_id=promotion_id, starts_at=data.starts_at, ends_at=data.ends_at))

    @post("/{promotion_id:str}/archive", operation_id="admin_archive_promotion", opt=MERCHANDISER, status_code=200)
    async def archive(self, bus: Bus, promotion_id: PromotionId) -> dict[str, Any]:
        return await bus.handle(p.ArchivePromotion(promotion_id=promotion_id))

    @post("/{promotion_id:str}/coupons", operation_id="admin_add_coupons", opt=MERCHANDISER, status_code=201,
          summary="Register codes or generate a set")
    async def coupons(self, bus: Bus, promotion_id: PromotionId,
                      data: JSONBody[CouponsIn]) -> dict[str, list[str]]:
        codes = await bus.handle(p.AddCoupons(
            promotion_id=promotion_id, codes=tuple(data.codes), generate=data.generate, prefix=data.prefix,
            usage_limit=data.usage_limit, per_customer_limit=data.per_customer_limit,
        ))
        return {"codes": codes}

    @post("/{promotion_id:str}/preview", operation_id="admin_preview_promotion", opt=MERCHANDISER, status_code=200,
          summary="Price a cart with the draft (or latest) version, before publishing")
    async def preview(self, bus: Bus, promotion_id: PromotionId,
                      data: JSONBody[PreviewIn]) -> dict[str, Any]:
        return await bus.handle(p.PreviewPromotion(
            promotion_id=promotion_id, lines=tuple((x.sku, x.quantity) for x in data.lines), currency=data.currency,
            coupon_codes=tuple(data.coupon_codes), customer_groups=tuple(data.customer_groups),
            first_order=data.first_order, shipping=data.shipping,
        ))


class GiftCardIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    amount: Annotated[int, Meta(ge=1, le=100_000_000)]
    currency: Currency


class AdminGiftCardController(Controller):
    path = "/admin/gift-cards"
    tags = ["admin: gift cards"]
    guards = [staff_guard]

    @post("/", operation_id="admin_issue_gift_card", opt=OWNER, status_code=201,
          summary="Issue a gift card (money: the owner's)")
    async def issue(self, bus: Bus, request: Request[Any, Any, Any],
                          data: JSONBody[GiftCardIn]) -> dict[str, Any]:
        return await bus.handle(IssueGiftCard(
            amount=data.amount, currency=data.currency, actor=f"staff:{current_staff(request).id}"))

    @get("/{code:str}", operation_id="admin_get_gift_card", opt=roles(Role.MERCHANDISER, Role.SUPPORT),
         summary="Balance and the ledger of redemptions and refunds")
    async def get_card(
        self, bus: Bus, code: Annotated[str, PathParameter(max_length=32)],
    ) -> dict[str, Any]:
        return await bus.handle(GetGiftCard(code=code))
