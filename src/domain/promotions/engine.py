"""The promotions engine: prices a cart under the active promotions and explains every amount.

Stacking, in one pass:
- promotions apply in priority order, highest ``priority`` first, ties by ``promotion_id`` then
  ``version``, so the result never depends on the order promotions are handed in;
- each promotion sees what is still payable after the ones before it (a later 10 % comes off the
  already reduced price) and can never take a line, the order or shipping below zero;
- a promotion whose ``not_combinable_with`` names an already applied promotion (or is named by it)
  is skipped; a promotion that discounts nothing does not count as applied;
- of each ``exclusive_group`` at most one promotion applies: every combination of candidates is
  priced, and the one leaving the shopper the lowest total wins (ties: the higher-priority choice);
- ``max_discount_per_order`` caps one promotion's total discount in the cart's currency.

Limits that need state (budgets, total or per-customer redemptions) are the application's: it hands
the engine only promotions that may still be used. Conditions and coupon requirements are checked
here against the undiscounted cart. Rounding happens in ``effects.allocate`` only (half to even).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import product

from domain.promotions.checks import amount_in, check_amounts
from domain.promotions.context import PricingContext, PricingLine
from domain.promotions.effects import Effect, Ledger, Level, allocate, effects_of, holds
from domain.promotions.errors import InvalidPricingInput, InvalidRule
from domain.promotions.rules import Rule
from domain.shared.money import Money

__all__ = [
    "ActivePromotion",
    "Applied",
    "LineResult",
    "Outcome",
    "PricingContext",
    "PricingLine",
    "PricingResult",
    "price",
]

MAX_COMBINATIONS = 256  # beyond this many exclusive-group combinations, groups are decided one by one


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivePromotion:
    """One published promotion version as the engine needs it; the application has already dropped
    promotions whose budget or redemption limits are used up."""

    promotion_id: str
    version: int
    name: str
    rule: Rule
    priority: int = 0
    exclusive_group: str | None = None
    not_combinable_with: frozenset[str] = frozenset()
    max_discount_per_order: tuple[Money, ...] = ()
    coupon_codes: frozenset[str] = frozenset()  # non-empty: one of these codes must be entered
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.max_discount_per_order:
            try:
                check_amounts(self.max_discount_per_order, "a maximum discount per order", allow_zero=True)
            except InvalidRule as error:
                raise InvalidPricingInput(f"{self.promotion_id}: {error}") from None

    @property
    def order_key(self) -> tuple[int, str, int]:
        return -self.priority, self.promotion_id, self.version


@dataclass(frozen=True, slots=True, kw_only=True)
class Applied:
    """``amount`` minor units taken off by one promotion version; ``level`` says whether it was a line,
    order (spread over lines) or shipping discount."""

    promotion_id: str
    version: int
    amount: int
    level: Level


@dataclass(frozen=True, slots=True, kw_only=True)
class LineResult:
    index: int
    sku: str
    quantity: int
    unit_price: int
    subtotal: int
    applied: tuple[Applied, ...]
    discount: int
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """Why a promotion did or did not change the price."""

    promotion_id: str
    version: int
    name: str
    applied: bool
    amount: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PricingResult:
    currency: str
    lines: tuple[LineResult, ...]
    order_adjustments: tuple[Applied, ...]
    shipping_adjustments: tuple[Applied, ...]
    subtotal: int
    line_discount: int
    order_discount: int
    discount: int  # line_discount + order_discount, never more than the subtotal
    shipping: int
    shipping_discount: int
    total: int  # subtotal - discount + shipping - shipping_discount
    trace: tuple[Outcome, ...]


@dataclass(slots=True, kw_only=True)
class _Run:
    ledger: Ledger
    taken: dict[tuple[str, int], list[Effect]]
    outcomes: dict[tuple[str, int], Outcome]

    @property
    def total(self) -> int:
        return self.ledger.merchandise + self.ledger.shipping


def _why_not(promotion: ActivePromotion, context: PricingContext) -> str | None:
    if promotion.starts_at is not None and context.at < promotion.starts_at:
        return "not started yet"
    if promotion.ends_at is not None and context.at >= promotion.ends_at:
        return "ended"
    if promotion.coupon_codes and not any(context.has_coupon(code) for code in sorted(promotion.coupon_codes)):
        return "needs a coupon code"
    if not holds(promotion.rule.when, context):
        return "conditions not met"
    return None


def _outcome(promotion: ActivePromotion, *, applied: bool, reason: str, amount: int = 0) -> Outcome:
    return Outcome(promotion_id=promotion.promotion_id, version=promotion.version, name=promotion.name,
                   applied=applied, amount=amount, reason=reason)


def _capped(promotion: ActivePromotion, effects: list[Effect], currency: str) -> list[Effect]:
    cap = amount_in(promotion.max_discount_per_order, currency)
    total = sum(e.amount for e in effects)
    if cap is None or total <= cap:
        return effects
    parts = allocate(cap, [e.amount for e in effects])
    return [Effect(line=e.line, level=e.level, amount=p) for e, p in zip(effects, parts, strict=True) if p]


def _run(context: PricingContext, promotions: list[ActivePromotion]) -> _Run:
    run = _Run(ledger=Ledger(lines=[line.subtotal for line in context.lines], shipping=context.shipping),
               taken={}, outcomes={})
    applied: list[ActivePromotion] = []
    for promotion in sorted(promotions, key=lambda p: p.order_key):
        key = (promotion.promotion_id, promotion.version)
        clash = next((other for other in applied if other.promotion_id in promotion.not_combinable_with
                      or promotion.promotion_id in other.not_combinable_with), None)
        if clash is not None:
            run.outcomes[key] = _outcome(promotion, applied=False, reason=f"not combinable with {clash.promotion_id}")
            continue
        scratch = run.ledger.copy()
        effects: list[Effect] = []
        for action in promotion.rule.then:
            effects.extend(scratch.take(effects_of(action, context, scratch)))
        taken = run.ledger.take(_capped(promotion, effects, context.currency))
        amount = sum(e.amount for e in taken)
        if amount == 0:
            run.outcomes[key] = _outcome(promotion, applied=False, reason="nothing to discount")
            continue
        applied.append(promotion)
        run.taken[key] = taken
        run.outcomes[key] = _outcome(promotion, applied=True, reason="applied", amount=amount)
    return run


def _choose(context: PricingContext, free: list[ActivePromotion],
            groups: dict[str, list[ActivePromotion]]) -> dict[str, ActivePromotion]:
    """The member of each exclusive group that, together with everything else, leaves the lowest total."""
    names = sorted(groups)

    def score(choice: tuple[ActivePromotion, ...]) -> tuple[int, tuple[tuple[int, str, int], ...]]:
        return _run(context, [*free, *choice]).total, tuple(p.order_key for p in choice)

    combinations = 1
    for name in names:
        combinations *= len(groups[name])
    if combinations <= MAX_COMBINATIONS:
        best = min(product(*(groups[name] for name in names)), key=score)
        return dict(zip(names, best, strict=True))
    chosen: dict[str, ActivePromotion] = {}
    for name in names:
        fixed = tuple(chosen.values())
        chosen[name] = min(groups[name], key=lambda member: score((*fixed, member)))
    return chosen


def _check(promotions: list[ActivePromotion]) -> None:
    ids = [p.promotion_id for p in promotions]
    if len(set(ids)) != len(ids):
        raise InvalidPricingInput("each promotion may be handed to the engine once (one version per promotion)")


def price(context: PricingContext, promotions: Iterable[ActivePromotion]) -> PricingResult:
    """Price ``context`` under ``promotions`` (in any order) and record why each amount is what it is."""
    candidates = sorted(promotions, key=lambda p: p.order_key)
    _check(candidates)
    outcomes: dict[tuple[str, int], Outcome] = {}
    free: list[ActivePromotion] = []
    groups: dict[str, list[ActivePromotion]] = {}
    for promotion in candidates:
        reason = _why_not(promotion, context)
        if reason is not None:
            outcomes[(promotion.promotion_id, promotion.version)] = _outcome(promotion, applied=False, reason=reason)
        elif promotion.exclusive_group is None:
            free.append(promotion)
        else:
            groups.setdefault(promotion.exclusive_group, []).append(promotion)
    chosen = _choose(context, free, groups) if groups else {}
    for name, members in groups.items():
        for member in members:
            if member is not chosen[name]:
                reason = f"exclusive group {name!r}: {chosen[name].promotion_id} is better for the shopper"
                outcomes[(member.promotion_id, member.version)] = _outcome(member, applied=False, reason=reason)
    run = _run(context, [*free, *chosen.values()])
    outcomes.update(run.outcomes)
    return _result(context, candidates, run, outcomes)


def _result(context: PricingContext, candidates: list[ActivePromotion], run: _Run,
            outcomes: dict[tuple[str, int], Outcome]) -> PricingResult:
    per_line: list[list[Applied]] = [[] for _ in context.lines]
    order: list[Applied] = []
    shipping: list[Applied] = []
    for promotion in candidates:
        key = (promotion.promotion_id, promotion.version)
        sums: dict[tuple[int | None, Level], int] = {}
        for effect in run.taken.get(key, []):
            sums[(effect.line, effect.level)] = sums.get((effect.line, effect.level), 0) + effect.amount
        # each line's (and shipping's) list gets its entries by level; the lists are separate, so only the
        # level orders them
        for (line, level), amount in sorted(sums.items(), key=lambda item: item[0][1].value):
            applied = Applied(promotion_id=key[0], version=key[1], amount=amount, level=level)
            if line is None:
                shipping.append(applied)
            else:
                per_line[line].append(applied)
        order_amount = sum(a for (_, level), a in sums.items() if level is Level.ORDER)
        if order_amount:
            order.append(Applied(promotion_id=key[0], version=key[1], amount=order_amount, level=Level.ORDER))
    lines = tuple(
        LineResult(index=i, sku=line.sku, quantity=line.quantity, unit_price=line.unit_price, subtotal=line.subtotal,
                   applied=tuple(per_line[i]), discount=line.subtotal - run.ledger.lines[i],
                   total=run.ledger.lines[i])
        for i, line in enumerate(context.lines)
    )
    subtotal = context.subtotal
    order_discount = sum(a.amount for a in order)
    discount = subtotal - run.ledger.merchandise
    return PricingResult(
        currency=context.currency, lines=lines, order_adjustments=tuple(order), shipping_adjustments=tuple(shipping),
        subtotal=subtotal, line_discount=discount - order_discount, order_discount=order_discount, discount=discount,
        shipping=context.shipping, shipping_discount=context.shipping - run.ledger.shipping, total=run.total,
        trace=tuple(outcomes[(p.promotion_id, p.version)] for p in candidates),
    )
