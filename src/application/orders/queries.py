"""The orders context's reads: one order (``GetOrder``), the order list (``ListOrders``), daily sales
(``SalesReport``), their handlers and the ``OrderView`` they return. Order changes stay in
``handlers`` and ``stock``; the read-model consumers are in ``projections``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import msgspec

from application.messaging.registry import Command, handler
from application.orders.errors import OrderNotVisible
from application.orders.ports import OrderUnitOfWork
from application.orders.read_models import DailySales, OrderFilter, OrderPage
from domain.carts.cart import Owner, OwnerKind
from domain.orders.order import Order
from domain.shared.errors import InvalidInput, NotFound

Uow = Callable[[], OrderUnitOfWork]


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    number: str
    status: str
    email: str
    customer_id: str | None
    currency: str
    totals: dict[str, Any]
    lines: list[dict[str, Any]]
    tax_lines: list[dict[str, Any]]
    shipping_address: dict[str, Any]
    billing_address: dict[str, Any]
    shipping_method: str
    payment_provider: str
    payments: list[dict[str, Any]]
    refunds: list[dict[str, Any]]
    fulfilments: list[dict[str, Any]]
    placed_at: str
    timeline: list[dict[str, Any]] | None = None  # staff: every entry as logged; the shopper: ``shopper_timeline``
    version: int


# Entries written for staff (their notes, payment evidence, a provider's stray payment sent back): the
# shopper's timeline leaves them out.
STAFF_ONLY_ACTIONS = frozenset({"staff_note", "payment_evidence", "orphan_payment_refunded"})


def shopper_actor(actor: str, order: Order) -> str:
    """Who moved the order, as its buyer may see it: "you", "staff" or "system" — never an account,
    token or provider id."""
    buyer = {f"customer:{order.customer_id}" if order.customer_id else None,
             f"guest:{order.guest_id}" if order.guest_id else None}
    if actor in buyer:
        return "you"
    if actor.startswith("staff:"):
        return "staff"
    return "system"


def shopper_timeline(order: Order) -> list[dict[str, Any]]:
    """The timeline its buyer sees: when and what, who as a role, no details (references, reasons and
    notes are written for staff)."""
    return [
        {"at": entry.at.isoformat(), "actor": shopper_actor(entry.actor, order), "action": entry.action,
         "from_status": entry.from_status, "to_status": entry.to_status}
        for entry in order.timeline if entry.action not in STAFF_ONLY_ACTIONS
    ]


def order_view(order: Order, *, with_timeline: bool) -> OrderView:
    """``with_timeline``: the staff view, the timeline as logged; else the buyer's, with ``shopper_timeline``."""
    return OrderView(
        id=order.id, number=order.number, status=order.status.value, email=order.email,
        customer_id=order.customer_id, currency=order.totals.currency, totals=asdict(order.totals),
        lines=[msgspec.to_builtins(line) for line in order.lines],
        tax_lines=[asdict(t) for t in order.tax_lines], shipping_address=asdict(order.shipping_address),
        billing_address=asdict(order.billing_address), shipping_method=order.shipping_method,
        payment_provider=order.payment_provider, payments=[asdict(p) for p in order.payments],
        refunds=[msgspec.to_builtins(r) for r in order.refunds],
        fulfilments=[msgspec.to_builtins(f) for f in order.fulfilments],
        placed_at=order.placed_at.isoformat(),
        timeline=[msgspec.to_builtins(e) for e in order.timeline] if with_timeline else shopper_timeline(order),
        version=order.version,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GetOrder(Command[OrderView]):
    order_id: str
    owner: Owner | None = None  # None: staff (with the timeline)


@handler
async def get_order(query: GetOrder, *, uow: Uow) -> OrderView:
    async with uow() as tx:
        try:
            order = await tx.orders.get(query.order_id)
        except NotFound:
            raise OrderNotVisible(f"no order {query.order_id}") from None
        if query.owner is not None:
            mine = (query.owner.kind is OwnerKind.CUSTOMER and order.customer_id == query.owner.id) or (
                query.owner.kind is OwnerKind.GUEST and order.guest_id == query.owner.id
            )
            if not mine:
                raise OrderNotVisible(f"no order {query.order_id}")
    return order_view(order, with_timeline=query.owner is None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListOrders(Command[OrderPage]):
    filter: OrderFilter


@dataclass(frozen=True, slots=True, kw_only=True)
class SalesReport(Command[list[DailySales]]):
    start: Any
    end: Any


@handler
async def list_orders(query: ListOrders, *, uow: Uow) -> OrderPage:
    async with uow() as tx:
        page: OrderPage = await tx.order_views.page(query.filter)
    return page


@handler
async def sales_report(query: SalesReport, *, uow: Uow) -> list[DailySales]:
    if query.end < query.start or (query.end - query.start).days > 366:
        raise InvalidInput("a sales report covers 1 to 366 days")
    async with uow() as tx:
        rows: list[DailySales] = await tx.order_views.sales(start=query.start, end=query.end)
    return rows
