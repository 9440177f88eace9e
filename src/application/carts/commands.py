"""Cart commands. The owner comes from the session or the signed cookie, never from the body."""

from __future__ import annotations

from dataclasses import dataclass

from domain.carts.cart import Owner


@dataclass(frozen=True, slots=True, kw_only=True)
class AddCartLine:
    owner: Owner
    sku: str
    quantity: int
    channel: str | None = None  # for a new cart: the storefront's channel (default when None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeCartLine:
    owner: Owner
    line_id: str
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveCartLine:
    owner: Owner
    line_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyCoupon:
    owner: Owner
    code: str
    channel: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveCoupon:
    owner: Owner
    code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeGuestCart:
    """On sign-in: the guest cart's lines move into the customer's cart; the guest cart retires."""

    guest: Owner
    customer: Owner


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewCart:
    """A query: the owner's cart priced now (an empty cart when there is none)."""

    owner: Owner | None
    channel: str | None = None
