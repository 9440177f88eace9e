"""Checkout commands. Addresses and choices come from the shopper; every amount is computed here."""

from __future__ import annotations

from dataclasses import dataclass

from application.checkout.read_models import CheckoutView, PlacedOrderView, ShippingOptionView
from application.messaging.registry import Command
from domain.carts.cart import Owner
from domain.shared.address import Address


@dataclass(frozen=True, slots=True, kw_only=True)
class StartCheckout(Command[CheckoutView]):
    owner: Owner


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCheckout(Command[CheckoutView]):
    owner: Owner
    checkout_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetContact(Command[CheckoutView]):
    owner: Owner
    checkout_id: str
    email: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAddress(Command[CheckoutView]):
    owner: Owner
    checkout_id: str
    shipping: Address
    billing: Address | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ShippingOptions(Command[list[ShippingOptionView]]):
    owner: Owner
    checkout_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChooseShipping(Command[CheckoutView]):
    owner: Owner
    checkout_id: str
    method_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartPayment(Command[CheckoutView]):
    owner: Owner
    checkout_id: str
    provider: str
    gift_card: str | None = None  # pays what it holds; the provider pays the rest
    client_ip: str | None = None  # pay-later starts are also counted per address
    admission: str | None = None  # the waiting room's token, for a cart holding SKUs an open drop gates


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceOrder(Command[PlacedOrderView]):
    owner: Owner
    checkout_id: str
