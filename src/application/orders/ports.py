from __future__ import annotations

from typing import Protocol

from application.giftcards.ports import GiftCardRepository
from application.invoicing.ports import InvoiceStore
from application.orders.read_models import OrderViews
from application.ports.unit_of_work import UnitOfWork
from application.promotions.ports import PromotionRepository
from domain.orders.order import Order


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None:
        """Stage a new order; a second order for the same checkout is a ``Conflict``."""
        ...

    async def get(self, order_id: str) -> Order:
        """The order, or ``OrderNotFound``."""
        ...

    async def by_checkout(self, checkout_id: str) -> Order | None: ...

    async def by_payment(self, reference: str) -> Order | None: ...

    async def save(self, order: Order) -> None: ...

    async def has_orders(self, customer_id: str) -> bool:
        """Whether the customer has placed any order (one index probe, however many they placed)."""
        ...

    async def all(self) -> list[Order]:
        """Every order (rebuilds of the read models)."""
        ...

    async def unpaid(
        self, *, provider: str, email: str | None, customer_id: str | None, guest_id: str | None,
    ) -> list[Order]:
        """Pending orders of ``provider`` placed by this customer or guest, or to this e-mail address."""
        ...

    async def pending_payments(self, *, provider: str, placed_before: object, limit: int) -> list[Order]:
        """Pending orders of ``provider`` placed before a moment (the reconciler's work list)."""
        ...


class OrderReads(UnitOfWork, Protocol):
    """The slice other contexts read orders through."""

    orders: OrderRepository


class OrderUnitOfWork(OrderReads, Protocol):
    """What orders use: the orders and their views, the gift-card money and promotion uses
    an order gives back when it is cancelled, and the invoices and credit notes its money gets."""

    order_views: OrderViews
    gift_cards: GiftCardRepository
    promotions: PromotionRepository
    invoices: InvoiceStore
