"""Price lists and the one function that answers "what does this variant cost here and now"."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from domain.catalog.product import CatalogError
from domain.shared.events import Aggregate, DomainEvent
from domain.shared.money import Money, currency_exponent


@dataclass(frozen=True, slots=True, kw_only=True)
class Tier:
    """From ``min_quantity`` units on, each unit costs ``amount``."""

    min_quantity: int
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Sale:
    amount: int
    starts_at: datetime
    ends_at: datetime

    def is_on(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True, slots=True, kw_only=True)
class Price:
    sku: str
    amount: int
    tiers: tuple[Tier, ...] = ()
    sale: Sale | None = None


class InvalidPrice(CatalogError):
    """A price breaks a rule of its own: negative, a tier or a sale above the base price, a bad window."""


class Keep(Enum):
    """An edit's "leave it as it is" (``None`` clears a sale, so it cannot mean that)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceEdit:
    """A change to some fields of a SKU's price: what is not named (``KEEP``) stays as it is."""

    sku: str
    amount: int | Keep = KEEP
    tiers: tuple[Tier, ...] | Keep = KEEP
    sale: Sale | Keep | None = KEEP


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceListChanged(DomainEvent):
    topic = "catalog.price_list_changed.v1"
    currency: str
    channel: str | None
    skus: tuple[str, ...]


def _check_price(price: Price) -> None:
    if price.amount < 0 or any(t.amount < 0 for t in price.tiers) or (price.sale and price.sale.amount < 0):
        raise InvalidPrice(f"{price.sku}: a price cannot be negative")
    minimums = [t.min_quantity for t in price.tiers]
    if any(m < 2 for m in minimums) or len(set(minimums)) != len(minimums):
        raise InvalidPrice(f"{price.sku}: tiers start at 2 units or more, each at a different quantity")
    # A tier or a sale is a discount on the base price: one above it would never be charged (the lowest
    # price wins), so it is a mistake the merchant should hear about, not a rule that silently does nothing.
    if above := [t for t in price.tiers if t.amount > price.amount]:
        raise InvalidPrice(f"{price.sku}: a tier cannot cost more than the base price {price.amount} "
                           f"(from {above[0].min_quantity} units: {above[0].amount})")
    if price.sale and price.sale.amount > price.amount:
        raise InvalidPrice(f"{price.sku}: a sale price cannot be above the base price {price.amount} "
                           f"({price.sale.amount})")
    if price.sale and price.sale.ends_at <= price.sale.starts_at:
        raise InvalidPrice(f"{price.sku}: a sale must end after it starts")


def edited(current: Price | None, edit: PriceEdit) -> Price:
    """``current`` with the fields ``edit`` names changed and the others kept (a new base amount keeps the
    tiers and the sale, which must then still be at or below it)."""
    if current is None:
        if isinstance(edit.amount, Keep):
            raise InvalidPrice(f"{edit.sku}: it has no price in this list yet: give its amount")
        current = Price(sku=edit.sku, amount=edit.amount)
    return replace(
        current,
        amount=current.amount if isinstance(edit.amount, Keep) else edit.amount,
        tiers=current.tiers if isinstance(edit.tiers, Keep) else edit.tiers,
        sale=current.sale if isinstance(edit.sale, Keep) else edit.sale,
    )


class PriceList(Aggregate):
    """Prices in ONE currency, for one channel or (``channel=None``) for every channel."""

    def __init__(
        self, *, id: str, name: str, currency: str, channel: str | None = None,
        prices: dict[str, Price] | None = None, version: int = 0,
    ) -> None:
        currency_exponent(currency)  # refuses unknown currencies
        self.id = id
        self.name = name
        self.currency = currency
        self.channel = channel
        self.prices = dict(prices or {})  # may hold only the SKUs a use case loaded
        self.version = version
        self.events = []
        self.changed: set[str] = set()  # SKUs whose price was set or removed, for the repository

    def set_prices(self, prices: list[Price], *, now: datetime) -> None:
        for price in prices:
            _check_price(price)
        for price in prices:
            self.prices[price.sku] = price
        self.changed.update(p.sku for p in prices)
        self._changed([p.sku for p in prices], now)

    def edit_prices(self, edits: list[PriceEdit], *, now: datetime) -> None:
        """Change some fields of some prices (all or nothing); the list must hold the edited SKUs' prices."""
        self.set_prices([edited(self.prices.get(e.sku), e) for e in edits], now=now)

    def remove_price(self, sku: str, *, now: datetime) -> None:
        if self.prices.pop(sku, None) is not None:
            self.changed.add(sku)
            self._changed([sku], now)

    def _changed(self, skus: list[str], now: datetime) -> None:
        self.version += 1
        self._record(
            PriceListChanged(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now,
                             currency=self.currency, channel=self.channel, skus=tuple(sorted(skus)))
        )


def unit_price(price: Price, quantity: int, at: datetime) -> int:
    """The lowest of the base, the best tier reached and a running sale."""
    candidates = [price.amount]
    reached = [t.amount for t in price.tiers if t.min_quantity <= quantity]
    if reached:
        candidates.append(min(reached))
    if price.sale and price.sale.is_on(at):
        candidates.append(price.sale.amount)
    return min(candidates)


def next_change(price: Price, after: datetime) -> datetime | None:
    """The first moment after ``after`` when the price changes by the clock alone (its sale starts or ends)."""
    if price.sale is None:
        return None
    return min((m for m in (price.sale.starts_at, price.sale.ends_at) if m > after), default=None)


def price_rule(price_lists: list[PriceList], *, sku: str, currency: str, channel: str | None) -> Price | None:
    """The price (base, tiers, sale) that prices ``sku`` in ``currency`` for ``channel``: the channel's own
    list wins over the all-channels list; never another currency. ``None`` when it has none there."""
    for wanted_channel in ([channel, None] if channel is not None else [None]):
        for price_list in sorted(price_lists, key=lambda p: p.id):
            if price_list.currency == currency and price_list.channel == wanted_channel and sku in price_list.prices:
                return price_list.prices[sku]
    return None


def resolve_price(
    price_lists: list[PriceList], *, sku: str, currency: str, channel: str | None, quantity: int, at: datetime
) -> Money | None:
    """The unit price of ``sku`` (``price_rule``'s price at ``quantity`` and ``at``); ``None`` when the
    variant has no price there."""
    if quantity <= 0:
        raise CatalogError("quantity must be positive")
    price = price_rule(price_lists, sku=sku, currency=currency, channel=channel)
    return None if price is None else Money(unit_price(price, quantity, at), currency)
