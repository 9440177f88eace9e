"""Which promotions could apply to a cart, read off their rules, and an index that finds them.

A promotion *needs* some facts of the cart before the engine could give anything for it: clauses, all of
which must hold, each a set of keys of which the cart must have at least one. The keys are what a cart is
made of: its SKUs, products, categories and attributes (through its lines), its coupon codes (compared
case-insensitively, as the engine does), its channel and its currency. A promotion with no clauses is a
candidate for every cart.

The clauses are conservative: a promotion left out can change nothing the engine decides. They come
from three places:
- its condition (``quantity(sku:X) >= 1`` needs SKU X, ``subtotal >= 50 EUR`` needs EUR, ``coupon C``
  needs code C; ``not`` needs nothing, ``or`` needs one key of any branch): where it cannot hold, the
  engine only writes "conditions not met" in its trace;
- the codes its terms require, the same way;
- its actions, for a promotion in no exclusive group: if every action selects lines the cart does not
  have (or names amounts only in other currencies), it would discount nothing, and a promotion that
  discounts nothing changes neither the ledger nor what may combine. A member of an exclusive group is
  never left out for its actions: choosing a member that gives nothing can be the group's best choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Generic, TypeVar, assert_never

from domain.promotions.context import PricingLine
from domain.promotions.engine import ActivePromotion
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
from domain.shared.money import Money

SKU = "sku"
PRODUCT = "product"
CATEGORY = "category"
ATTRIBUTE = "attribute"
COUPON = "coupon"
CHANNEL = "channel"
CURRENCY = "currency"

Key = tuple[str, str]
Clause = frozenset[Key]
Clauses = tuple[Clause, ...]

# How few carts a key of each kind is likely to match: the index files a promotion under its most
# selective clause (every cart has a currency; few have a given SKU).
_RANK = {SKU: 0, PRODUCT: 0, COUPON: 1, CATEGORY: 2, ATTRIBUTE: 3, CHANNEL: 4, CURRENCY: 5}


def coupon_key(code: str) -> Key:
    return COUPON, code.casefold()


def attribute_key(name: str, value: str) -> Key:
    return ATTRIBUTE, f"{len(name)}:{name}={value}"  # the length keeps an "=" in the name unambiguous


def _currencies(amounts: tuple[Money, ...]) -> Clause:
    return frozenset((CURRENCY, m.currency) for m in amounts)


def selector_needs(selector: Selector) -> Clause | None:
    """The keys of which a line must have one to match ``selector``; ``None``: any line may match."""
    match selector:
        case AllLines():
            return None
        case BySku(sku=sku):
            return frozenset({(SKU, sku)})
        case ByProduct(product_id=product_id):
            return frozenset({(PRODUCT, product_id)})
        case ByCategory(category_id=category_id):
            return frozenset({(CATEGORY, category_id)})
        case ByAttribute(name=name, value=value):
            return frozenset({attribute_key(name, value)})
        case _:
            assert_never(selector)


def _best(clauses: Clauses) -> Clause:
    return min(clauses, key=lambda c: (max(_RANK[kind] for kind, _ in c), len(c), sorted(c)))


def _either(options: Iterable[Clauses]) -> Clauses:
    """One of several alternatives holds: one clause, the union of each alternative's best one (a lone
    alternative keeps all its clauses)."""
    alternatives = list(options)
    if len(alternatives) == 1:
        return alternatives[0]
    union: set[Key] = set()
    for clauses in alternatives:
        if not clauses:
            return ()  # an alternative that needs nothing: the whole needs nothing
        union |= _best(clauses)
    return (frozenset(union),)


def condition_needs(condition: Condition) -> Clauses:
    """What the cart must have for ``condition`` to hold (the engine's ``holds``)."""
    match condition:
        case Always() | CustomerInGroup() | FirstOrder() | DateWindow():
            return ()
        case SubtotalAtLeast(amounts=amounts):
            return (_currencies(amounts),)  # no threshold in the cart's currency: it never holds
        case QuantityAtLeast(lines=selector):  # a minimum is at least 1: some line must match
            needed = selector_needs(selector)
            return () if needed is None else (needed,)
        case CouponPresent(code=code):
            return (frozenset({coupon_key(code)}),)
        case CurrencyIs(currency=currency):
            return (frozenset({(CURRENCY, currency)}),)
        case ChannelIs(channel=channel):
            return (frozenset({(CHANNEL, channel)}),)
        case And(items=items):
            return tuple(clause for item in items for clause in condition_needs(item))
        case Or(items=items):
            return _either(condition_needs(item) for item in items)
        case Not():
            return ()
        case _:
            assert_never(condition)


def action_needs(action: Action) -> Clauses:
    """What the cart must have for ``action`` to take anything off (the engine's ``effects_of``)."""
    match action:
        case PercentOffLines(lines=selector) | BuyXGetY(lines=selector):
            needed = selector_needs(selector)
            return () if needed is None else (needed,)
        case AmountOffLines(amounts=amounts, lines=selector):
            needed = selector_needs(selector)
            return (_currencies(amounts),) if needed is None else (_currencies(amounts), needed)
        case BundlePrice(components=components, prices=prices):
            return (_currencies(prices), *(n for n in map(selector_needs, components) if n is not None))
        case AmountOffOrder(amounts=amounts) | AmountOffShipping(amounts=amounts):
            return (_currencies(amounts),)
        case PercentOffOrder() | PercentOffShipping():
            return ()
        case _:
            assert_never(action)


@dataclass(frozen=True, slots=True)
class Needs:
    """Every clause must hold, a clause holding when the cart has one of its keys; none: every cart."""

    clauses: Clauses = ()

    def met_by(self, keys: Set[Key]) -> bool:
        return all(not clause.isdisjoint(keys) for clause in self.clauses)

    @property
    def always(self) -> bool:
        return not self.clauses


def needs(promotion: ActivePromotion) -> Needs:
    """What a cart must have before ``promotion`` could change its price."""
    clauses = list(condition_needs(promotion.rule.when))
    if promotion.coupon_codes:
        clauses.append(frozenset(coupon_key(code) for code in promotion.coupon_codes))
    if promotion.exclusive_group is None:
        clauses.extend(_either(action_needs(action) for action in promotion.rule.then))
    return Needs(tuple(dict.fromkeys(clauses)))


def cart_keys(
    lines: Iterable[PricingLine], *, currency: str, channel: str | None, coupon_codes: Iterable[str]
) -> frozenset[Key]:
    """The keys a cart has: its lines' SKUs, products, categories and attributes, its codes, its channel
    and currency (what ``PricingContext`` would hold)."""
    keys: set[Key] = {(CURRENCY, currency)}
    if channel is not None:
        keys.add((CHANNEL, channel))
    keys.update(coupon_key(code) for code in coupon_codes)
    for line in lines:
        keys.add((SKU, line.sku))
        keys.add((PRODUCT, line.product_id))
        keys.update((CATEGORY, category) for category in line.category_ids)
        keys.update(attribute_key(name, value) for name, value in line.attributes.items())
    return frozenset(keys)


T = TypeVar("T")


class PromotionIndex(Generic[T]):
    """Entries (anything a promotion comes with) filed by their promotion's ``Needs``: each under the
    keys of its most selective clause, or with those every cart gets. Immutable once built."""

    def __init__(self, entries: Iterable[tuple[str, T, Needs]]) -> None:
        self._entries: list[T] = []
        self._needs: list[Needs] = []
        self._always: list[int] = []
        self._by_key: dict[Key, list[int]] = {}
        self._position: dict[str, int] = {}
        for position, (promotion_id, entry, needed) in enumerate(entries):
            self._entries.append(entry)
            self._needs.append(needed)
            self._position[promotion_id] = position
            if needed.always:
                self._always.append(position)
            else:
                for key in _best(needed.clauses):
                    self._by_key.setdefault(key, []).append(position)

    def __len__(self) -> int:
        return len(self._entries)

    def candidates(self, keys: Set[Key], *, also: Iterable[str] = ()) -> list[T]:
        """The entries whose promotion could apply to a cart with ``keys``, plus those of the promotions
        ``also`` names, in the order they were indexed."""
        positions = set(self._always)
        for key in keys:
            for position in self._by_key.get(key, ()):
                if position not in positions and self._needs[position].met_by(keys):
                    positions.add(position)
        positions.update(self._position[i] for i in also if i in self._position)
        return [self._entries[p] for p in sorted(positions)]
