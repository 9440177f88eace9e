"""Checkout commands. Addresses and choices come from the shopper; every amount is computed here."""

from __future__ import annotations

from dataclasses import dataclass

from domain.carts.cart import Owner
from domain.shared.address import Address


@dataclass(frozen=True, slots=True, kw_only=True)
class StartCheckout:
    owner: Owner


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCheckout:
    owner: Owner
    checkout_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetContact:
    owner: Owner
    checkout_id: str
    email: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAddress:
    owner: Owner
    checkout_id: str
    shipping: Address
    billing: Address | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ShippingOptions:
    owner: Owner
    checkout_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChooseShipping:
    owner: Owner
    checkout_id: str
    method_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartPayment:
    owner: Owner
    checkout_id: str
    provider: str
    gift_card: str | None = None  # pays what it holds; the provider pays the rest


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceOrder:
    owner: Owner
    checkout_id: str
