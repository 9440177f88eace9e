"""Checkout: a resumable state machine from cart to one placed order.

Steps — contact, address, shipping — can be filled in any order and revisited; ``next_step``
says what is missing, so a shopper can resume anywhere. Entering payment freezes a snapshot of
the priced cart (and holds the stock); revisiting a step afterwards reopens the checkout and
drops the snapshot (the application releases the stock). Placing happens once: a second place
answers with the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from domain.carts.cart import Owner
from domain.shared.address import Address
from domain.shared.errors import Conflict, InvalidInput
from domain.shared.events import Aggregate, DomainEvent


class CheckoutState(Enum):
    OPEN = "open"
    PAYMENT = "payment"
    PLACED = "placed"


class CheckoutClosed(Conflict):
    """The checkout was placed; it takes no more changes."""


class CheckoutIncomplete(InvalidInput):
    """A step is missing before payment can start."""


class CartChanged(Conflict):
    """The cart changed after payment started: review the checkout again."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """What the shopper agreed to pay, frozen when payment starts."""

    cart_version: int
    lines: tuple[dict[str, Any], ...]  # priced order lines (sku, name, quantity, unit price, discount, tax, total)
    tax_lines: tuple[dict[str, Any], ...]
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    prices_include_tax: bool
    shipping_method: str
    coupon_codes: tuple[str, ...] = ()  # the codes that gave a discount (redeemed when the order is placed)
    shipping_promotions: tuple[dict[str, Any], ...] = ()  # (promotion id, version, amount) off shipping
    gift_card_code: str | None = None
    gift_card_amount: int = 0  # taken from the card when the order is placed; the provider takes the rest


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutStarted(DomainEvent):
    topic = "checkout.checkout_started.v1"
    cart_id: str
    customer_id: str | None


@dataclass(kw_only=True)
class Checkout(Aggregate):
    id: str
    owner: Owner
    cart_id: str
    currency: str
    channel: str
    created_at: datetime
    updated_at: datetime
    state: CheckoutState = CheckoutState.OPEN
    email: str | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    shipping_method: str | None = None
    payment_provider: str | None = None
    snapshot: Snapshot | None = None
    reservation_id: str | None = None
    order_id: str | None = None
    version: int = 0
    events: list[DomainEvent] = field(default_factory=list, repr=False)

    @classmethod
    def start(cls, *, checkout_id: str, owner: Owner, cart_id: str, currency: str, channel: str,
              email: str | None, now: datetime) -> Checkout:
        checkout = cls(id=checkout_id, owner=owner, cart_id=cart_id, currency=currency, channel=channel,
                       created_at=now, updated_at=now, email=email, version=1)
        checkout._record(CheckoutStarted(
            aggregate_id=checkout_id, aggregate_version=1, occurred_at=now, cart_id=cart_id,
            customer_id=owner.id if owner.kind.value == "customer" else None,
        ))
        return checkout

    @property
    def next_step(self) -> str:
        if self.state is CheckoutState.PLACED:
            return "done"
        if not self.email:
            return "contact"
        if self.shipping_address is None:
            return "address"
        if self.shipping_method is None:
            return "shipping"
        if self.state is CheckoutState.OPEN:
            return "payment"
        return "place"

    def _change(self, now: datetime) -> str | None:
        """Reopen for a change; returns the reservation to release when payment had started."""
        if self.state is CheckoutState.PLACED:
            raise CheckoutClosed(f"checkout {self.id} is placed")
        released = self.reservation_id
        self.state = CheckoutState.OPEN
        self.snapshot = None
        self.reservation_id = None
        self.updated_at = now
        self.version += 1
        return released

    def set_contact(self, email: str, *, now: datetime) -> str | None:
        released = self._change(now)
        self.email = email
        return released

    def set_address(self, shipping: Address, billing: Address | None, *, now: datetime) -> str | None:
        released = self._change(now)
        if self.shipping_address is not None and (shipping.country, shipping.region) != (
            self.shipping_address.country, self.shipping_address.region
        ):
            self.shipping_method = None  # methods differ per zone: choose again
        self.shipping_address = shipping
        self.billing_address = billing or shipping
        return released

    def choose_shipping(self, method_id: str, *, now: datetime) -> str | None:
        if self.shipping_address is None:
            raise CheckoutIncomplete("give an address before choosing shipping")
        released = self._change(now)
        self.shipping_method = method_id
        return released

    def begin_payment(self, *, provider: str, snapshot: Snapshot, reservation_id: str, now: datetime) -> None:
        if self.state is CheckoutState.PLACED:
            raise CheckoutClosed(f"checkout {self.id} is placed")
        if self.next_step not in ("payment", "place"):
            raise CheckoutIncomplete(f"the {self.next_step} step is missing")
        self.state = CheckoutState.PAYMENT
        self.payment_provider = provider
        self.snapshot = snapshot
        self.reservation_id = reservation_id
        self.updated_at = now
        self.version += 1

    def place(self, *, order_id: str, cart_version: int, now: datetime) -> None:
        if self.state is CheckoutState.PLACED:
            return
        if self.state is not CheckoutState.PAYMENT or self.snapshot is None:
            raise CheckoutIncomplete(f"the {self.next_step} step is missing")
        if cart_version != self.snapshot.cart_version:
            raise CartChanged("the cart changed after payment started; review and pay again")
        self.state = CheckoutState.PLACED
        self.order_id = order_id
        self.updated_at = now
        self.version += 1
