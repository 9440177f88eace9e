"""Merchandiser use cases: draft, edit, preview, publish, schedule, archive; coupon codes."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from application.catalog.queries import offers
from application.catalog.snapshot import CatalogReads
from application.messaging.registry import Command, handler
from application.ports.clock import Clock, IdGenerator
from application.promotions.codec import promotion_to_builtins
from application.promotions.ports import Coupon, Limits, PreviewUnitOfWork, PromotionUnitOfWork
from domain.carts.cart import normalise_code
from domain.promotions.engine import ActivePromotion, PricingContext, PricingLine, price
from domain.promotions.errors import PromotionError
from domain.promotions.promotion import CouponsAdded, Promotion, PromotionTerms
from domain.promotions.text import parse
from domain.shared.errors import InvalidInput
from domain.shared.money import Money

Uow = Callable[[], PromotionUnitOfWork]
CODE_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "O0I1L")


@dataclass(frozen=True, slots=True, kw_only=True)
class TermsInput:
    name: str
    rule: str  # the text form, parsed here
    priority: int = 0
    exclusive_group: str | None = None
    not_combinable_with: tuple[str, ...] = ()
    max_discount_per_order: tuple[tuple[int, str], ...] = ()
    coupon_codes: tuple[str, ...] = ()

    def terms(self) -> PromotionTerms:
        return PromotionTerms(
            name=self.name, rule=parse(self.rule), priority=self.priority, exclusive_group=self.exclusive_group,
            not_combinable_with=frozenset(self.not_combinable_with),
            max_discount_per_order=tuple(Money(a, c) for a, c in self.max_discount_per_order),
            coupon_codes=frozenset(normalise_code(c) for c in self.coupon_codes),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatePromotion(Command[dict[str, Any]]):
    terms: TermsInput
    limits: Limits = field(default_factory=Limits)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EditPromotion(Command[dict[str, Any]]):
    promotion_id: str
    terms: TermsInput
    limits: Limits | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishPromotion(Command[dict[str, Any]]):
    promotion_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulePromotion(Command[dict[str, Any]]):
    promotion_id: str
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchivePromotion(Command[dict[str, Any]]):
    promotion_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetPromotion(Command[dict[str, Any]]):
    promotion_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListPromotions(Command[list[dict[str, Any]]]):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class AddCoupons(Command[list[str]]):
    """Register given codes, or generate ``generate`` random ones (``prefix`` + 10 characters)."""

    promotion_id: str
    codes: tuple[str, ...] = ()
    generate: int = 0
    prefix: str = ""
    usage_limit: int | None = 1
    per_customer_limit: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewPromotion(Command[dict[str, Any]]):
    """Price a given cart with the promotion's draft (or latest) version alone, before publishing."""

    promotion_id: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    currency: str
    coupon_codes: tuple[str, ...] = ()
    customer_groups: tuple[str, ...] = ()
    first_order: bool = False
    shipping: int = 0


def promotion_view(promotion: Promotion, limits: Limits) -> dict[str, Any]:
    data = promotion_to_builtins(promotion)
    data["status"] = promotion.status.value
    data["limits"] = {"max_redemptions": limits.max_redemptions, "per_customer": limits.per_customer,
                      "budget": limits.budget}
    return data


def _terms(command_terms: TermsInput) -> PromotionTerms:
    try:
        return command_terms.terms()
    except PromotionError:
        raise
    except ValueError as error:
        raise InvalidInput(str(error)) from None


@handler
async def create_promotion(command: CreatePromotion, *, uow: Uow, clock: Clock, ids: IdGenerator) -> dict[str, Any]:
    promotion = Promotion.create(id=ids.new_id(), terms=_terms(command.terms), now=clock.now(),
                                 starts_at=command.starts_at, ends_at=command.ends_at)
    async with uow() as tx:
        await tx.promotions.add(promotion, command.limits)
        await _register_term_codes(tx, promotion)
        await tx.commit()
    return promotion_view(promotion, command.limits)


async def _register_term_codes(tx: Any, promotion: Promotion) -> None:
    """Codes named in the terms are coupons too (unlimited unless registered with a limit)."""
    codes = sorted({c for v in promotion.versions for c in v.terms.coupon_codes})
    if not codes:
        return
    existing = await tx.promotions.coupons(codes)
    for code, coupon in existing.items():
        if coupon.promotion_id != promotion.id:
            raise InvalidInput(f"coupon {code} belongs to another promotion")
    new = [Coupon(code=c, promotion_id=promotion.id, usage_limit=None) for c in codes if c not in existing]
    if new:
        await tx.promotions.add_coupons(new)


async def _change(uow: Uow, promotion_id: str, change: Callable[[Promotion, Limits], Limits]) -> dict[str, Any]:
    async with uow() as tx:
        promotion, limits = await tx.promotions.get(promotion_id)
        limits = change(promotion, limits)
        await tx.promotions.save(promotion, limits)
        await _register_term_codes(tx, promotion)
        await tx.commit()
    return promotion_view(promotion, limits)


@handler
async def edit_promotion(command: EditPromotion, *, uow: Uow, clock: Clock) -> dict[str, Any]:
    terms = _terms(command.terms)

    def change(promotion: Promotion, limits: Limits) -> Limits:
        promotion.edit(terms, now=clock.now())
        return command.limits or limits

    return await _change(uow, command.promotion_id, change)


@handler
async def publish_promotion(command: PublishPromotion, *, uow: Uow, clock: Clock) -> dict[str, Any]:
    def change(promotion: Promotion, limits: Limits) -> Limits:
        promotion.publish(now=clock.now())
        return limits

    return await _change(uow, command.promotion_id, change)


@handler
async def schedule_promotion(command: SchedulePromotion, *, uow: Uow, clock: Clock) -> dict[str, Any]:
    def change(promotion: Promotion, limits: Limits) -> Limits:
        promotion.schedule(starts_at=command.starts_at, ends_at=command.ends_at, now=clock.now())
        return limits

    return await _change(uow, command.promotion_id, change)


@handler
async def archive_promotion(command: ArchivePromotion, *, uow: Uow, clock: Clock) -> dict[str, Any]:
    def change(promotion: Promotion, limits: Limits) -> Limits:
        promotion.archive(now=clock.now())
        return limits

    return await _change(uow, command.promotion_id, change)


@handler
async def get_promotion(query: GetPromotion, *, uow: Uow) -> dict[str, Any]:
    async with uow() as tx:
        promotion, limits = await tx.promotions.get(query.promotion_id)
    return promotion_view(promotion, limits)


@handler
async def list_promotions(query: ListPromotions, *, uow: Uow) -> list[dict[str, Any]]:
    async with uow() as tx:
        promotions = await tx.promotions.all()
    return [{"id": p.id, "status": p.status.value, "name": p.versions[-1].terms.name,
             "published_version": p.published.number if p.published else None,
             "latest_version": p.versions[-1].number} for p in promotions]


@handler
async def add_coupons(command: AddCoupons, *, uow: Uow, clock: Clock) -> list[str]:
    if command.generate < 0 or command.generate > 10_000:
        raise InvalidInput("generate between 0 and 10,000 codes at once")
    if command.usage_limit is not None and command.usage_limit < 1:
        raise InvalidInput("a usage limit is at least 1")
    prefix = normalise_code(command.prefix) if command.prefix else ""
    codes = [normalise_code(c) for c in command.codes] + [
        prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10)) for _ in range(command.generate)
    ]
    if not codes:
        raise InvalidInput("give codes or a number to generate")
    if len(set(codes)) != len(codes):
        raise InvalidInput("duplicate codes in the request")
    async with uow() as tx:
        promotion, _ = await tx.promotions.get(command.promotion_id)
        await tx.promotions.add_coupons([
            Coupon(code=c, promotion_id=command.promotion_id, usage_limit=command.usage_limit,
                   per_customer_limit=command.per_customer_limit)
            for c in codes
        ])
        # The event's commit moves the shared catalog version: kept live promotions learn it needs a code.
        tx.record(CouponsAdded(aggregate_id=promotion.id, aggregate_version=promotion.version,
                               occurred_at=clock.now(), count=len(codes)))
        await tx.commit()
    return codes


@handler
async def preview_promotion(
    command: PreviewPromotion, *, uow: Callable[[], PreviewUnitOfWork], catalog: CatalogReads, clock: Clock,
) -> dict[str, Any]:
    now = clock.now()
    skus = [sku for sku, _ in command.lines]
    found = await offers(skus, currency=command.currency, channel=None, at=now, catalog=catalog,
                         quantities=dict(command.lines))
    async with uow() as tx:
        promotion, _ = await tx.promotions.get(command.promotion_id)
        products = {p.id: p for p in await tx.products.get_many(
            sorted({o.product_id for o in found.values()}))}
    version = promotion.versions[-1]
    candidate = promotion.active() if promotion.draft is None else None
    if candidate is None:  # a draft: preview it as if it were published now
        terms = version.terms
        candidate = ActivePromotion(
            promotion_id=promotion.id, version=version.number, name=terms.name, rule=terms.rule,
            priority=terms.priority, exclusive_group=terms.exclusive_group,
            not_combinable_with=terms.not_combinable_with, max_discount_per_order=terms.max_discount_per_order,
            coupon_codes=terms.coupon_codes, starts_at=promotion.starts_at, ends_at=promotion.ends_at,
        )
    lines = []
    for sku, quantity in command.lines:
        offer = found.get(sku)
        if offer is None or offer.unit_price is None:
            raise InvalidInput(f"{sku} has no price in {command.currency}")
        product = products.get(offer.product_id)
        lines.append(PricingLine(
            sku=sku, product_id=offer.product_id, quantity=quantity, unit_price=offer.unit_price.amount,
            category_ids=frozenset(getattr(product, "category_ids", ()) or ()),
            attributes={k: str(v) for k, v in (getattr(product, "attributes", {}) or {}).items()},
        ))
    codes = frozenset(normalise_code(c) for c in command.coupon_codes)
    if candidate.coupon_codes and codes:
        candidate = replace(candidate, coupon_codes=candidate.coupon_codes | codes)
    result = price(PricingContext(
        lines=tuple(lines), currency=command.currency, customer_groups=frozenset(command.customer_groups),
        first_order=command.first_order, coupon_codes=codes, at=now, shipping=command.shipping,
    ), [candidate])
    return {
        "version": candidate.version,
        "subtotal": result.subtotal, "discount": result.discount, "shipping_discount": result.shipping_discount,
        "total": result.total,
        "lines": [{"sku": line.sku, "subtotal": line.subtotal, "discount": line.discount, "total": line.total}
                  for line in result.lines],
        "trace": [{"promotion_id": o.promotion_id, "version": o.version, "applied": o.applied, "amount": o.amount,
                   "reason": o.reason} for o in result.trace],
    }

