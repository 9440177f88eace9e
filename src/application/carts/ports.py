"""Ports of the cart context: where carts live, and who prices them beyond the list price."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.carts.cart import Cart


class CartStore(Protocol):
    """Carts by id and by customer. ``save`` is optimistic: it raises ``ConcurrencyConflict`` when the
    stored version is not ``cart.version``, and bumps ``cart.version`` on success."""

    async def get(self, cart_id: str, *, fresh: bool = False) -> Cart | None:
        """The cart, or None when unknown or expired. ``fresh`` bypasses any cache (after a conflict)."""
        ...

    async def for_customer(self, customer_id: str, *, fresh: bool = False) -> Cart | None:
        """The customer's active (not retired) cart, on any device."""
        ...

    async def save(self, *carts: Cart) -> None:
        """Save one or more carts atomically (a merge saves two)."""
        ...

    def expiry_of(self, cart: Cart) -> datetime:
        """When ``cart``, saved now, expires (what a ``CartWrites`` save is given)."""
        ...

    async def saved(self, cart: Cart) -> None:
        """``cart`` was saved through another aggregate's unit of work (``CartWrites``) and committed:
        bump its version as ``save`` would, and let the hot copy know."""
        ...


class CartWrites(Protocol):
    """The durable copy's save inside another aggregate's unit of work: an order retires its cart in
    the order's own transaction, so two checkouts of one cart cannot both become orders."""

    async def save(self, cart: Cart, *, expires_at: datetime) -> None:
        """Write it if the stored version is ``cart.version`` (a first save if 0), else a ``Conflict``
        — at once, or at the commit when the store holds its writes back
        until then. Does not bump the version: ``CartStore.saved`` does, after the commit."""
        ...


class DurableCarts(Protocol):
    """The durable copy (PostgreSQL): the versioned truth a cache can always be rebuilt from."""

    async def get(self, cart_id: str, *, now: datetime) -> Cart | None: ...

    async def for_customer(self, customer_id: str, *, now: datetime) -> Cart | None: ...

    async def save(self, carts: Sequence[tuple[Cart, datetime]]) -> None:
        """Insert or update each cart (with its expiry) where the stored version is ``cart.version``;
        all or nothing; ``ConcurrencyConflict`` otherwise. Does not bump versions."""
        ...

    async def touch(self, cart_id: str, *, expires_at: datetime) -> None:
        """Push back the expiry of a cart that is being read (activity without a change)."""
        ...

    async def purge_expired(self, *, now: datetime) -> int: ...


class CartCache(Protocol):
    """The hot copy (Redis): fast reads, TTL refreshed on activity, never more recent than the truth."""

    async def get(self, cart_id: str) -> Cart | None:
        """The cached cart, refreshing its TTL (the one it was put with); None on a miss."""
        ...

    async def first_touch_today(self, cart_id: str) -> bool:
        """True once per cart per day: when the durable copy's expiry should be pushed back too."""
        ...

    async def get_touching(self, cart_id: str) -> tuple[Cart | None, bool]:
        """``get`` and, for a cart found, ``first_touch_today`` — in one round trip where the cache can
        (every storefront request reads its cart)."""
        ...

    async def put(self, cart: Cart, *, ttl_seconds: int) -> None:
        """Cache ``cart`` unless a newer version is already cached."""
        ...

    async def customer_cart_id(self, customer_id: str) -> str | None: ...

    async def forget(self, cart_id: str) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionLine:
    line_id: str
    sku: str
    product_id: str
    quantity: int
    unit_price: int  # minor units, after the price list


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionRequest:
    cart_id: str
    currency: str
    channel: str
    customer_id: str | None
    coupon_codes: tuple[str, ...]
    lines: tuple[PromotionLine, ...]
    at: datetime
    shipping: int = 0  # known at checkout; free or discounted shipping comes off it


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjustment:
    """One applied discount: which promotion version, on which line (None: the order), how much."""

    promotion_id: str
    version: int
    label: str
    amount: int  # minor units, positive
    line_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionOutcome:
    adjustments: tuple[Adjustment, ...] = ()
    rejected_coupons: dict[str, str] = field(default_factory=dict)  # code -> why it does not apply
    shipping_adjustments: tuple[Adjustment, ...] = ()

    @property
    def shipping_discount(self) -> int:
        return sum(a.amount for a in self.shipping_adjustments)


class PromotionEngine(Protocol):
    async def apply(self, request: PromotionRequest) -> PromotionOutcome:
        """The discounts the current promotions give this cart (and why a coupon gives none)."""
        ...

    async def coupon_exists(self, code: str, *, at: datetime) -> bool:
        """Whether ``code`` is a live coupon; adding an unknown code to a cart is refused."""
        ...
