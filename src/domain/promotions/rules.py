"""The rule tree of a promotion version: conditions (when) and actions (then), all immutable values.

Amounts are ``Money`` (integer minor units); an amount per currency is a tuple of ``Money`` with
distinct currencies, and a cart in a currency the tuple does not name gets nothing from it.
Percentages are integer basis points: ``2000`` is 20 %, ``10000`` is 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.promotions.checks import check_amounts, check_count, check_percent, check_text
from domain.promotions.errors import InvalidRule
from domain.shared.money import Money, is_currency

# --- line selectors ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BySku:
    sku: str

    def __post_init__(self) -> None:
        check_text(self.sku, "a SKU")


@dataclass(frozen=True, slots=True, kw_only=True)
class ByProduct:
    product_id: str

    def __post_init__(self) -> None:
        check_text(self.product_id, "a product id")


@dataclass(frozen=True, slots=True, kw_only=True)
class ByCategory:
    category_id: str

    def __post_init__(self) -> None:
        check_text(self.category_id, "a category id")


@dataclass(frozen=True, slots=True, kw_only=True)
class ByAttribute:
    name: str
    value: str

    def __post_init__(self) -> None:
        check_text(self.name, "an attribute name")
        check_text(self.value, "an attribute value")


@dataclass(frozen=True, slots=True, kw_only=True)
class AllLines:
    pass


Selector = BySku | ByProduct | ByCategory | ByAttribute | AllLines

# --- conditions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Always:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SubtotalAtLeast:
    """The cart's undiscounted subtotal reaches the amount set for its currency."""

    amounts: tuple[Money, ...]

    def __post_init__(self) -> None:
        check_amounts(self.amounts, "a subtotal threshold", allow_zero=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuantityAtLeast:
    lines: Selector
    minimum: int

    def __post_init__(self) -> None:
        check_count(self.minimum, "a minimum quantity")


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerInGroup:
    group: str

    def __post_init__(self) -> None:
        check_text(self.group, "a customer group")


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstOrder:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CouponPresent:
    """The shopper entered this code (compared case-insensitively)."""

    code: str

    def __post_init__(self) -> None:
        check_text(self.code, "a coupon code")


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyIs:
    currency: str

    def __post_init__(self) -> None:
        if not is_currency(self.currency):
            raise InvalidRule(f"unsupported currency {self.currency!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelIs:
    channel: str

    def __post_init__(self) -> None:
        check_text(self.channel, "a channel")


@dataclass(frozen=True, slots=True, kw_only=True)
class DateWindow:
    """``starts_at <= at < ends_at``; either end may be open, not both."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.starts_at is None and self.ends_at is None:
            raise InvalidRule("a date window needs a start, an end or both")
        for moment in (self.starts_at, self.ends_at):
            if moment is not None and moment.utcoffset() is None:
                raise InvalidRule("a date window needs timezone-aware datetimes")
        if self.starts_at is not None and self.ends_at is not None and self.ends_at <= self.starts_at:
            raise InvalidRule("a date window must end after it starts")


@dataclass(frozen=True, slots=True, kw_only=True)
class And:
    items: tuple[Condition, ...]

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            raise InvalidRule("'and' joins at least two conditions")


@dataclass(frozen=True, slots=True, kw_only=True)
class Or:
    items: tuple[Condition, ...]

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            raise InvalidRule("'or' joins at least two conditions")


@dataclass(frozen=True, slots=True, kw_only=True)
class Not:
    item: Condition


Condition = (
    Always | SubtotalAtLeast | QuantityAtLeast | CustomerInGroup | FirstOrder | CouponPresent | CurrencyIs
    | ChannelIs | DateWindow | And | Or | Not
)

# --- actions -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PercentOffLines:
    basis_points: int
    lines: Selector

    def __post_init__(self) -> None:
        check_percent(self.basis_points)


@dataclass(frozen=True, slots=True, kw_only=True)
class AmountOffLines:
    """The amount comes off the matching lines together, spread in proportion to their prices."""

    amounts: tuple[Money, ...]
    lines: Selector

    def __post_init__(self) -> None:
        check_amounts(self.amounts, "an amount off")


@dataclass(frozen=True, slots=True, kw_only=True)
class PercentOffOrder:
    basis_points: int

    def __post_init__(self) -> None:
        check_percent(self.basis_points)


@dataclass(frozen=True, slots=True, kw_only=True)
class AmountOffOrder:
    amounts: tuple[Money, ...]

    def __post_init__(self) -> None:
        check_amounts(self.amounts, "an amount off")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuyXGetY:
    """For every ``buy + get`` matching units, the ``get`` cheapest get ``basis_points`` off; at most
    ``limit`` times per order (``None``: no limit)."""

    buy: int
    get: int
    basis_points: int
    lines: Selector
    limit: int | None = None

    def __post_init__(self) -> None:
        check_count(self.buy, "'buy'")
        check_count(self.get, "'get'")
        check_percent(self.basis_points)
        if self.limit is not None:
            check_count(self.limit, "a limit")


@dataclass(frozen=True, slots=True, kw_only=True)
class BundlePrice:
    """One unit matching each component selector, together, costs the price set for the currency."""

    components: tuple[Selector, ...]
    prices: tuple[Money, ...]

    def __post_init__(self) -> None:
        if len(self.components) < 2:
            raise InvalidRule("a bundle has at least two components")
        check_amounts(self.prices, "a bundle price", allow_zero=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class PercentOffShipping:
    """``basis_points=10000`` is free shipping."""

    basis_points: int

    def __post_init__(self) -> None:
        check_percent(self.basis_points)


@dataclass(frozen=True, slots=True, kw_only=True)
class AmountOffShipping:
    amounts: tuple[Money, ...]

    def __post_init__(self) -> None:
        check_amounts(self.amounts, "an amount off shipping")


Action = (
    PercentOffLines | AmountOffLines | PercentOffOrder | AmountOffOrder | BuyXGetY | BundlePrice
    | PercentOffShipping | AmountOffShipping
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """``when`` the condition holds ``then`` every action applies, in order."""

    when: Condition
    then: tuple[Action, ...]

    def __post_init__(self) -> None:
        if not self.then:
            raise InvalidRule("a rule needs at least one action")
