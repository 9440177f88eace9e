from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from application.carts.ports import CartWrites
from application.catalog.ports import ProductReads
from application.customers.ports import CustomerRepository
from application.drops.ports import TicketBook
from application.giftcards.ports import GiftCardRepository
from application.inventory.ports import InventoryUnitOfWork
from application.invoicing.ports import InvoiceStore
from application.orders.ports import OrderRepository
from application.promotions.ports import PromotionRepository
from domain.checkout.checkout import Checkout
from domain.orders.order import TaxLine
from domain.shipping.rates import Option
from domain.tax.rates import TaxDestination


class CheckoutRepository(Protocol):
    async def add(self, checkout: Checkout) -> None: ...

    async def get(self, checkout_id: str) -> Checkout:
        """The checkout, or ``CheckoutNotFound``."""
        ...

    async def save(self, checkout: Checkout) -> None:
        """Write it if nobody saved it since it was read, else ``ConcurrencyConflict`` — at once, or at
        the commit when the store holds its writes back until then (nothing of the unit of work is
        written then)."""
        ...

    def track(self, checkout: Checkout) -> None:
        """Take a checkout read by an earlier unit of work, as it was read: saving it writes only if
        nobody saved it since (``ConcurrencyConflict`` otherwise), as if this unit of work had read it."""
        ...


class CheckoutUnitOfWork(ProductReads, InventoryUnitOfWork, Protocol):
    """What checkout uses: its own checkouts, the orders it places, the products it holds stock
    for and the stock it holds (a payment's hold is written with the checkout, in one transaction),
    the customer's e-mail, the promotion uses and gift-card money it takes with the order, the
    cart the order retires (in the order's transaction), and the waiting-room ticket a payment uses."""

    checkouts: CheckoutRepository
    carts: CartWrites
    orders: OrderRepository
    customers: CustomerRepository
    promotions: PromotionRepository
    gift_cards: GiftCardRepository
    tickets: TicketBook
    invoices: InvoiceStore


@dataclass(frozen=True, slots=True, kw_only=True)
class Taxable:
    applies_to: str  # a line id or "shipping"
    amount: int  # after discounts, in the channel's price convention (gross or net)
    tax_class: str = "standard"


class TaxCalculator(Protocol):
    """Taxes a sale to a destination. The built-in adapter knows European VAT (a pinned data package)
    and the US states the merchant keeps; a provider (Stripe Tax, …) can stand behind the same port."""

    async def destination(self, *, country: str, region: str) -> TaxDestination:
        """How the destination taxes a consumer sale (its prices include the tax or not);
        ``UntaxedDestination`` when no rate is known there: checkout refuses the address."""
        ...

    async def calculate(
        self, items: list[Taxable], *, country: str, region: str, prices_include_tax: bool,
    ) -> list[TaxLine]:
        """One tax line per taxable item (zero-rated and exempt items included), at the rate of its
        tax class there, contained in its amount or added on top of it as ``prices_include_tax`` says;
        ``UntaxedDestination`` when no rate is known for the destination."""
        ...


class ShippingRates(Protocol):
    """The merchant's shipping table as checkout reads it (``KeptShippingRates``: kept per catalog version)."""

    async def options(
        self, *, country: str, region: str, currency: str, goods: int, weight_grams: int,
    ) -> list[Option]:
        """Every method offered at the address in ``currency`` that carries the parcel, cheapest first;
        ``UnsupportedDestination`` when no zone covers the address."""
        ...
