"""What a rule means for one cart: whether its condition holds, and which amounts each action takes off.

Every amount the engine derives from a percentage or a proportional split goes through ``allocate``,
the one rounding point of promotions: it rounds an exact total half-to-even (``round_minor``) once,
then splits it over weights by largest remainder, so the parts add up exactly to the rounded total
and no part exceeds (the ceiling of) its weight.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import assert_never

from domain.promotions.checks import FULL, amount_in
from domain.promotions.context import PricingContext, PricingLine
from domain.promotions.rules import (
    Action,
    AllLines,
    Always,
    AmountOffLines,
    AmountOffOrder,
    AmountOffShipping,
    And,
    BundlePrice,
    BuyXGetY,
    ByAttribute,
    ByCategory,
    ByProduct,
    BySku,
    ChannelIs,
    Condition,
    CouponPresent,
    CurrencyIs,
    CustomerInGroup,
    DateWindow,
    FirstOrder,
    Not,
    Or,
    PercentOffLines,
    PercentOffOrder,
    PercentOffShipping,
    QuantityAtLeast,
    Selector,
    SubtotalAtLeast,
)
from domain.shared.money import round_minor


def allocate(total: Fraction | int, weights: Sequence[Fraction | int]) -> list[int]:
    """Round ``total`` once (half to even) and split it over ``weights`` by largest remainder.

    The rounded total is capped at the floor of the weights' sum, so a discount never exceeds what
    it discounts. Ties in remainders go to the earlier weight, which keeps results deterministic.
    """
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    rounded = max(0, min(round_minor(Fraction(total)), math.floor(whole)))  # round_minor: half to even
    exact = [Fraction(rounded) * w / whole for w in weights]
    parts = [math.floor(e) for e in exact]
    short = rounded - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[:short]:
        parts[i] += 1
    return parts


def matches(selector: Selector, line: PricingLine) -> bool:
    match selector:
        case AllLines():
            return True
        case BySku(sku=sku):
            return line.sku == sku
        case ByProduct(product_id=product_id):
            return line.product_id == product_id
        case ByCategory(category_id=category_id):
            return category_id in line.category_ids
        case ByAttribute(name=name, value=value):
            return line.attributes.get(name) == value
        case _:
            assert_never(selector)


def holds(condition: Condition, context: PricingContext) -> bool:
    """Conditions look at the cart as the shopper filled it: undiscounted prices and quantities."""
    match condition:
        case Always():
            return True
        case SubtotalAtLeast(amounts=amounts):
            threshold = amount_in(amounts, context.currency)
            return threshold is not None and context.subtotal >= threshold
        case QuantityAtLeast(lines=selector, minimum=minimum):
            return sum(line.quantity for line in context.lines if matches(selector, line)) >= minimum
        case CustomerInGroup(group=group):
            return group in context.customer_groups
        case FirstOrder():
            return context.first_order
        case CouponPresent(code=code):
            return context.has_coupon(code)
        case CurrencyIs(currency=currency):
            return context.currency == currency
        case ChannelIs(channel=channel):
            return context.channel == channel
        case DateWindow(starts_at=starts_at, ends_at=ends_at):
            return (starts_at is None or starts_at <= context.at) and (ends_at is None or context.at < ends_at)
        case And(items=items):
            return all(holds(item, context) for item in items)
        case Or(items=items):
            return any(holds(item, context) for item in items)
        case Not(item=item):
            return not holds(item, context)
        case _:
            assert_never(condition)


class Level(Enum):
    LINE = "line"  # a discount on particular lines
    ORDER = "order"  # an order-level discount, spread over the lines for the audit trail
    SHIPPING = "shipping"


@dataclass(frozen=True, slots=True, kw_only=True)
class Effect:
    """``amount`` minor units off line ``line`` (``None``: off shipping)."""

    line: int | None
    level: Level
    amount: int


@dataclass(slots=True, kw_only=True)
class Ledger:
    """What is still payable, per line and for shipping, while promotions apply one after another."""

    lines: list[int]
    shipping: int

    def copy(self) -> Ledger:
        return Ledger(lines=list(self.lines), shipping=self.shipping)

    def take(self, effects: Sequence[Effect]) -> list[Effect]:
        """Apply ``effects``; an effect is clipped to what remains, so nothing goes below zero."""
        taken = []
        for effect in effects:
            if effect.line is None:
                amount = min(effect.amount, self.shipping)
                self.shipping -= amount
            else:
                amount = min(effect.amount, self.lines[effect.line])
                self.lines[effect.line] -= amount
            if amount > 0:
                taken.append(Effect(line=effect.line, level=effect.level, amount=amount))
        return taken

    @property
    def merchandise(self) -> int:
        return sum(self.lines)


def _spread(total: Fraction | int, weights: Mapping[int, Fraction | int], level: Level) -> list[Effect]:
    indexes = sorted(weights)
    parts = allocate(total, [weights[i] for i in indexes])
    return [Effect(line=i, level=level, amount=part) for i, part in zip(indexes, parts, strict=True) if part]


def _matching(selector: Selector, context: PricingContext, ledger: Ledger) -> dict[int, int]:
    # A line with nothing left payable weighs 0: allocate never hands it a part.
    return {i: ledger.lines[i] for i, line in enumerate(context.lines) if matches(selector, line)}


def _buy_x_get_y(action: BuyXGetY, context: PricingContext, ledger: Ledger) -> list[Effect]:
    # Units of one line cost the same (what is left of the line, per unit), so lines are taken whole
    # runs at a time, cheapest first; ties go by SKU, then by line position.
    runs = sorted(
        (Fraction(ledger.lines[i], line.quantity), line.sku, i, line.quantity)
        for i, line in enumerate(context.lines) if ledger.lines[i] > 0 and matches(action.lines, line)
    )
    times = sum(run[3] for run in runs) // (action.buy + action.get)
    if action.limit is not None:
        times = min(times, action.limit)
    free = times * action.get
    picked: dict[int, Fraction] = {}
    for unit_value, _, i, quantity in runs:
        taken = min(quantity, free)
        if taken == 0:
            break
        picked[i] = unit_value * taken
        free -= taken
    total = sum(picked.values()) * Fraction(action.basis_points, FULL)
    return _spread(total, picked, Level.LINE)


def _fill(components: tuple[Selector, ...], pool: list[tuple[Fraction, int]], context: PricingContext,
          ) -> list[int] | None:
    """Positions in ``pool`` of one unit per component (the most valuable that fits), or ``None``."""
    chosen: list[int] = []
    for component in components:
        slot = next((n for n, (_, i) in enumerate(pool) if n not in chosen and matches(component, context.lines[i])),
                    None)
        if slot is None:
            return None
        chosen.append(slot)
    return chosen


def _bundle(action: BundlePrice, context: PricingContext, ledger: Ledger) -> list[Effect]:
    price = amount_in(action.prices, context.currency)
    if price is None:
        return []
    # Most valuable units first: the shopper gets the largest saving the bundle price allows. Greedy
    # filling may miss a bundle that overlapping component selectors could still form; that is accepted.
    pool = sorted(
        ((Fraction(ledger.lines[i], line.quantity), i) for i, line in enumerate(context.lines) if ledger.lines[i] > 0
         for _ in range(line.quantity)),
        key=lambda unit: (-unit[0], unit[1]),
    )
    savings: dict[int, Fraction] = {}
    while (chosen := _fill(action.components, pool, context)) is not None:
        value = sum(pool[n][0] for n in chosen)
        if value <= price:
            break
        for n in chosen:
            unit_value, i = pool[n]
            savings[i] = savings.get(i, Fraction(0)) + unit_value * (value - price) / value
        pool = [unit for n, unit in enumerate(pool) if n not in chosen]
    return _spread(sum(savings.values()), savings, Level.LINE)


def effects_of(action: Action, context: PricingContext, ledger: Ledger) -> list[Effect]:
    """The amounts ``action`` takes off, given what is still payable; ``ledger`` is not changed."""
    currency = context.currency
    match action:
        case PercentOffLines(basis_points=bp, lines=selector):
            weights = _matching(selector, context, ledger)
            return _spread(Fraction(sum(weights.values()) * bp, FULL), weights, Level.LINE)
        case AmountOffLines(amounts=amounts, lines=selector):
            weights = _matching(selector, context, ledger)
            return _spread(amount_in(amounts, currency) or 0, weights, Level.LINE)
        case PercentOffOrder(basis_points=bp):
            weights = _matching(AllLines(), context, ledger)
            return _spread(Fraction(ledger.merchandise * bp, FULL), weights, Level.ORDER)
        case AmountOffOrder(amounts=amounts):
            return _spread(amount_in(amounts, currency) or 0, _matching(AllLines(), context, ledger), Level.ORDER)
        case BuyXGetY():
            return _buy_x_get_y(action, context, ledger)
        case BundlePrice():
            return _bundle(action, context, ledger)
        case PercentOffShipping(basis_points=bp):
            [amount] = allocate(Fraction(ledger.shipping * bp, FULL), [ledger.shipping])
            return [Effect(line=None, level=Level.SHIPPING, amount=amount)] if amount else []
        case AmountOffShipping(amounts=amounts):
            [amount] = allocate(amount_in(amounts, currency) or 0, [ledger.shipping])
            return [Effect(line=None, level=Level.SHIPPING, amount=amount)] if amount else []
        case _:
            assert_never(action)
