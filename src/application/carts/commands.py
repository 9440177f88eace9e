"""Cart commands. The owner comes from the session or the signed cookie, never from the body."""

from __future__ import annotations

from dataclasses import dataclass

from application.carts.read_models import CartView
from application.messaging.registry import Command
from domain.carts.cart import Cart, MergeReport, Owner


@dataclass(frozen=True, slots=True, kw_only=True)
class AddCartLine(Command[Cart]):
    owner: Owner
    sku: str
    quantity: int
    channel: str | None = None  # for a new cart: the storefront's channel (default when None)
    new_owner: bool = False  # a guest minted by this very request: no cart can exist yet
    admission: str | None = None  # the waiting room's token, for a SKU an open drop sells through one


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeCartLine(Command[Cart]):
    owner: Owner
    line_id: str
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveCartLine(Command[Cart]):
    owner: Owner
    line_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyCoupon(Command[Cart]):
    owner: Owner
    code: str
    channel: str | None = None
    client_ip: str | None = None  # guesses are counted per cart owner and per address


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveCoupon(Command[Cart]):
    owner: Owner
    code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeGuestCart(Command[MergeReport]):
    """On sign-in: the guest cart's lines move into the customer's cart; the guest cart retires."""

    guest: Owner
    customer: Owner


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewCart(Command[CartView]):
    """A query: the owner's cart priced now (an empty cart when there is none)."""

    owner: Owner | None
    channel: str | None = None
