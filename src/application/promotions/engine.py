"""The ``PromotionEngine`` port served by the domain engine over the stored promotions.

For each cart read: the live promotions (published, in their window, within their limits) that could
apply to the cart (looked up in their index by its SKUs, products, categories, attributes, codes,
channel and currency), the coupons entered (unknown and used-up codes are reported), the products'
categories and attributes, and the customer's groups and first-order status become a
``PricingContext``; ``price`` does the rest. A promotion that has coupons applies only with one of its
codes entered.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from application.carts.ports import Adjustment, PromotionOutcome, PromotionRequest
from application.catalog.snapshot import CatalogReads, CatalogVersion
from application.promotions.ports import Usage
from domain.catalog.product import Product
from domain.promotions.engine import ActivePromotion, PricingContext, PricingLine, PricingResult, price
from domain.promotions.selection import Needs, PromotionIndex, cart_keys, needs
from domain.shared.errors import NotFound
from domain.shared.money import Money


def exhausted(limits: Any, usage: Any, currency: str) -> bool:
    if limits.max_redemptions is not None and usage.redemptions >= limits.max_redemptions:
        return True
    budget = limits.budget.get(currency)
    return budget is not None and usage.spent.get(currency, 0) >= budget


def coupon_used_up(coupon: Any) -> bool:
    return coupon.usage_limit is not None and coupon.used >= coupon.usage_limit


class StoredPromotions:
    """The live promotions are kept in this process as a ``PromotionIndex``
    (``domain/promotions/selection.py``), built once per shared ``version`` (a promotion saved anywhere,
    or coupons added to one, bumps it) and per window: until the next moment a published promotion starts
    or ends. A cart is priced under the promotions that could apply to its lines, codes, channel and
    currency (and those of the coupons it entered), never all of them.

    ``ttl``: the usage of the promotions that have a redemption limit or a budget is read again after
    that long (one statement, only for those): a promise made at the cart stays within ``ttl`` of the
    truth, and limits are counted where they are spent, in the order's transaction anyway. ``max_age``:
    the index is built again after that long even when the version did not move (a bump lost with
    Redis). ``ttl=0``, or no version: everything read on every request. ``engine`` is what prices (the
    domain's ``price``; a test may watch what it is handed)."""

    def __init__(self, uow: Callable[[], Any], catalog: CatalogReads | None = None, *,
                 version: CatalogVersion | None = None, ttl: float = 0.0, max_age: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 engine: Callable[[PricingContext, list[ActivePromotion]], PricingResult] = price) -> None:
        self._uow = uow
        self._catalog = catalog
        self._version = version
        self._ttl = ttl
        self._max_age = max_age
        self._monotonic = monotonic
        self._engine = engine
        self._kept: _Kept | None = None
        # A published version's terms never change: what it needs is read off its rule once.
        self._needs: dict[tuple[str, int], Needs] = {}
        self._product_facts: dict[tuple[str, int], tuple[frozenset[str], dict[str, str]]] = {}

    async def _live(self, at: datetime) -> _Live:
        version = await self._version.current() if self._version is not None and self._ttl > 0 else None
        kept = self._kept
        if version is None or kept is None or not kept.holds(version, at, self._monotonic()):
            return await self._read(version, at)
        if self._monotonic() < kept.usage_until:
            return kept.live
        usage: dict[str, Usage] = {}
        if kept.live.limited:
            async with self._uow() as tx:
                usage = await tx.promotions.usage(list(kept.live.limited))
        live = replace(kept.live, usage=usage)
        self._kept = replace(kept, live=live, usage_until=self._monotonic() + self._ttl)
        return live

    async def _read(self, version: int | None, at: datetime) -> _Live:
        async with self._uow() as tx:
            rows = await tx.promotions.live(at)
            gated = await tx.promotions.coupon_gated([p.id for p, _, _ in rows]) if rows else set()
            until = await tx.promotions.next_change(at) if version is not None else None
        found = _Live(index=self._index(rows), gated=frozenset(gated),
                      usage={p.id: usage for p, limits, usage in rows if _counted(limits)},
                      limited=tuple(p.id for p, limits, _ in rows if _counted(limits)))
        if version is not None:
            now = self._monotonic()
            self._kept = _Kept(version=version, since=at, until=until, stale_at=now + self._max_age,
                               usage_until=now + self._ttl, live=found)
        return found

    def _index(self, live: list[Any]) -> PromotionIndex[tuple[Any, ActivePromotion]]:
        entries = []
        for promotion, limits, _ in live:
            active = promotion.active()
            if active is None:
                continue
            needed = _kept(self._needs, (active.promotion_id, active.version), functools.partial(needs, active))
            entries.append((active.promotion_id, ((promotion, limits), active), needed))
        return PromotionIndex(entries)

    def _pricing_lines(self, request: PromotionRequest, products: dict[str, Any]) -> tuple[PricingLine, ...]:
        return tuple(
            PricingLine(sku=line.sku, product_id=line.product_id, category_ids=facts[0], attributes=facts[1],
                        quantity=line.quantity, unit_price=line.unit_price)
            for line in request.lines
            for facts in (self._facts(products.get(line.product_id)),)
        )

    def _facts(self, product: Product | None) -> tuple[frozenset[str], dict[str, str]]:
        """A product's categories and attributes as the rules compare them, worked out once per version."""
        if product is None:
            return frozenset(), {}
        return _kept(self._product_facts, (product.id, product.version), lambda: (
            frozenset(product.category_ids), {k: str(v) for k, v in product.attributes.items()}))

    async def coupon_exists(self, code: str, *, at: datetime) -> bool:
        async with self._uow() as tx:
            found = (await tx.promotions.coupons([code])).get(code)
            if found is None:
                return False
            live = {p.id for p, _, _ in await tx.promotions.live(at)}
        return found.promotion_id in live

    async def apply(self, request: PromotionRequest) -> PromotionOutcome:
        codes = list(request.coupon_codes)
        live = await self._live(request.at)
        if not codes and not len(live.index):
            return PromotionOutcome()  # nothing could apply and no code needs an answer
        coupons: dict[str, Any] = {}
        groups: frozenset[str] = frozenset()
        first_order = False
        used: dict[str, int] = {}
        products: dict[str, Any] = {}
        if self._catalog is not None:  # the products the cart's lines sell, as the cart was priced with them
            products = {p.id: p for p in (await self._catalog.lookup([x.sku for x in request.lines])).products}
        selected: list[tuple[Any, ActivePromotion]] = []
        if codes or request.customer_id or (self._catalog is None and request.lines):
            async with self._uow() as tx:  # what only this shopper's cart needs: codes, groups, own usage
                coupons = await tx.promotions.coupons(codes) if codes else {}
                if self._catalog is None:
                    products = {p.id: p for p in await tx.products.get_many(
                        sorted({x.product_id for x in request.lines}))}
                lines = self._pricing_lines(request, products)
                selected = _select(live, request, lines, coupons)
                if request.customer_id:
                    try:
                        customer = await tx.customers.get(request.customer_id)
                        groups = frozenset(customer.groups)
                    except NotFound:  # an unknown customer simply has no groups
                        groups = frozenset()
                    first_order = not await tx.orders.has_orders(request.customer_id)
                    used = await tx.promotions.customer_usage([active.promotion_id for _, active in selected],
                                                              f"customer:{request.customer_id}")
        else:
            lines = self._pricing_lines(request, products)
            selected = _select(live, request, lines, coupons)
        rejected: dict[str, str] = {}
        usable: dict[str, str] = {}  # code -> promotion id
        for code in codes:
            coupon = coupons.get(code)
            if coupon is None:
                rejected[code] = "unknown coupon"
            elif coupon_used_up(coupon):
                rejected[code] = "this coupon has been used up"
            else:
                usable[code] = coupon.promotion_id

        candidates: list[ActivePromotion] = []
        for (promotion, limits), active in selected:
            usage = live.usage.get(promotion.id, _UNUSED)
            if exhausted(limits, usage, request.currency):
                continue
            if limits.per_customer is not None and used.get(promotion.id, 0) >= limits.per_customer:
                continue  # this customer used it up: it would only fail when the order is placed
            budget = limits.budget.get(request.currency)
            if budget is not None:  # never promise more than the budget has left
                left = Money(budget - usage.spent.get(request.currency, 0), request.currency)
                caps = [m for m in active.max_discount_per_order if m.currency == request.currency]
                if not caps or left < caps[0]:
                    others = tuple(m for m in active.max_discount_per_order if m.currency != request.currency)
                    active = replace(active, max_discount_per_order=(*others, left))
            if promotion.id in live.gated or active.coupon_codes:
                valid = {c for c, pid in usable.items() if pid == promotion.id} | (active.coupon_codes & set(codes))
                if not valid:
                    continue
                active = replace(active, coupon_codes=frozenset(valid))
            candidates.append(active)

        if not request.lines:
            return PromotionOutcome(rejected_coupons=rejected)
        if not candidates:  # the engine could apply nothing: every usable code is simply not applicable
            return PromotionOutcome(rejected_coupons=rejected | dict.fromkeys(usable, "not applicable"))
        result = self._engine(PricingContext(
            lines=lines, currency=request.currency, channel=request.channel, customer_id=request.customer_id,
            customer_groups=groups, first_order=first_order, coupon_codes=frozenset(codes), at=request.at,
            shipping=request.shipping,
        ), candidates)
        names = {o.promotion_id: o.name for o in result.trace}
        applied_ids = {o.promotion_id for o in result.trace if o.applied}
        for code, promotion_id in usable.items():
            if promotion_id not in applied_ids:
                reason = next((o.reason for o in result.trace if o.promotion_id == promotion_id), "not applicable")
                rejected[code] = reason or "not applicable"
        adjustments = tuple(
            Adjustment(promotion_id=a.promotion_id, version=a.version, label=names.get(a.promotion_id, ""),
                       amount=a.amount, line_id=request.lines[line.index].line_id)
            for line in result.lines for a in line.applied
        )
        shipping = tuple(
            Adjustment(promotion_id=a.promotion_id, version=a.version, label=names.get(a.promotion_id, ""),
                       amount=a.amount, line_id=None)
            for a in result.shipping_adjustments
        )
        return PromotionOutcome(adjustments=adjustments, rejected_coupons=rejected, shipping_adjustments=shipping)


_KEPT_MAX = 16_384
_UNUSED = Usage()
K = TypeVar("K")
V = TypeVar("V")


def _kept(kept: dict[K, V], key: K, work_out: Callable[[], V]) -> V:
    """``kept[key]``, worked out once (what a published version or a product version gives never changes);
    everything forgotten when ``_KEPT_MAX`` entries are kept."""
    value = kept.get(key)
    if value is None:
        if len(kept) >= _KEPT_MAX:
            kept.clear()
        value = kept[key] = work_out()
    return value


def _counted(limits: Any) -> bool:
    """Whether a promotion's usage decides if it still applies: a redemption limit or a budget."""
    return limits.max_redemptions is not None or bool(limits.budget)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Live:
    """The live promotions as last read: each with its limits and published version, indexed by what it
    needs of a cart; ``gated``: those that have coupons; ``usage`` of the ``limited`` ones."""

    index: PromotionIndex[tuple[Any, ActivePromotion]]
    gated: frozenset[str]
    usage: dict[str, Usage]
    limited: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Kept:
    """``live`` as read at ``since`` under the shared ``version``: the same live set for every moment
    before ``until`` (the next start or end of a published promotion), until ``stale_at`` (monotonic)."""

    version: int
    since: datetime
    until: datetime | None
    stale_at: float
    usage_until: float
    live: _Live

    def holds(self, version: int, at: datetime, now: float) -> bool:
        return (version == self.version and self.since <= at and (self.until is None or at < self.until)
                and now < self.stale_at)


def _select(live: _Live, request: PromotionRequest, lines: tuple[PricingLine, ...],
            coupons: dict[str, Any]) -> list[tuple[Any, ActivePromotion]]:
    """The live promotions that could apply to this cart, and those of the coupons it entered (whose
    code is answered with the engine's reason when it gives nothing)."""
    keys = cart_keys(lines, currency=request.currency, channel=request.channel, coupon_codes=request.coupon_codes)
    return live.index.candidates(keys, also=sorted({c.promotion_id for c in coupons.values()}))
