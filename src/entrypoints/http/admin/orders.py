"""Orders for staff: the list, one order with its timeline, and every transition."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Meta

from application.orders import handlers as o
from application.orders import queries as q
from application.orders.notes import AddOrderNote
from application.orders.read_models import OrderFilter, OrderPage
from domain.staff.roles import Role
from entrypoints.http.auth import current_staff, roles, staff_guard
from entrypoints.http.decoding import MULTILINE
from entrypoints.http.dependencies import Bus

OrderId = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
SUPPORT = roles(Role.SUPPORT, Role.FULFILMENT)
FULFILMENT = roles(Role.FULFILMENT)
MONEY = roles(Role.SUPPORT)
Status = Literal["pending", "paid", "fulfilled", "shipped", "delivered", "cancelled", "partially_refunded",
                 "refunded", "disputed"]


class FulfilIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    lines: dict[str, Annotated[int, Meta(ge=1)]] | None = None


class ShipIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    carrier: Annotated[str, Meta(min_length=1, max_length=64)]
    tracking_number: Annotated[str, Meta(min_length=1, max_length=64)]


class MarkPaidIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    evidence: Annotated[str, Meta(min_length=1, max_length=200)]  # a transfer reference, a receipt number


class CancelIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class NoteIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: Annotated[str, Meta(min_length=1, max_length=1000), MULTILINE]


class RefundIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    amount: Annotated[int, Meta(ge=1)]
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


def _actor(request: Request[Any, Any, Any]) -> str:
    return f"staff:{current_staff(request).id}"


class AdminOrderController(Controller):
    path = "/admin/orders"
    tags = ["admin: orders"]
    guards = [staff_guard]

    @get("/", operation_id="admin_list_orders", opt=SUPPORT, summary="Filter by status, date, customer, total")
    async def list_orders(
        self, bus: Bus,
        status: Annotated[Status | None, QueryParameter(name="status")] = None,
        customer_id: Annotated[str | None, QueryParameter(name="customer_id", max_length=64)] = None,
        placed_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        placed_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
        min_total: Annotated[int | None, QueryParameter(name="min_total", ge=0)] = None,
        max_total: Annotated[int | None, QueryParameter(name="max_total", ge=0)] = None,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
        cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
    ) -> OrderPage:
        return await bus.handle(q.ListOrders(filter=OrderFilter(
            status=status, customer_id=customer_id, placed_from=placed_from, placed_to=placed_to,
            min_total=min_total, max_total=max_total, limit=limit, cursor=cursor,
        )))

    @get("/{order_id:str}", operation_id="admin_get_order", opt=SUPPORT, summary="The order and its timeline")
    async def get_order(self, bus: Bus, order_id: OrderId) -> q.OrderView:
        return await bus.handle(q.GetOrder(order_id=order_id))

    @post("/{order_id:str}/mark-paid", operation_id="admin_mark_paid", opt=FULFILMENT, status_code=200,
          summary="Record that a manual order was paid, naming the evidence (fulfilment or owner)")
    async def mark_paid(self, request: Request[Any, Any, Any], bus: Bus, order_id: OrderId,
                        data: JSONBody[MarkPaidIn]) -> q.OrderView:
        return await bus.handle(o.MarkPaid(order_id=order_id, actor=_actor(request), evidence=data.evidence))

    @post("/{order_id:str}/fulfil", operation_id="admin_fulfil_order", opt=FULFILMENT, status_code=200)
    async def fulfil(self, request: Request[Any, Any, Any], bus: Bus, order_id: OrderId,
                     data: JSONBody[FulfilIn]) -> q.OrderView:
        return await bus.handle(o.FulfilOrder(order_id=order_id, actor=_actor(request), lines=data.lines))

    @post("/{order_id:str}/ship", operation_id="admin_ship_order", opt=FULFILMENT, status_code=200)
    async def ship(self, request: Request[Any, Any, Any], bus: Bus, order_id: OrderId,
                   data: JSONBody[ShipIn]) -> q.OrderView:
        return await bus.handle(o.ShipOrder(
            order_id=order_id, actor=_actor(request), carrier=data.carrier, tracking_number=data.tracking_number))

    @post("/{order_id:str}/deliver", operation_id="admin_deliver_order", opt=FULFILMENT, status_code=200)
    async def deliver(self, request: Request[Any, Any, Any], bus: Bus, order_id: OrderId) -> q.OrderView:
        return await bus.handle(o.DeliverOrder(order_id=order_id, actor=_actor(request)))

    @post("/{order_id:str}/cancel", operation_id="admin_cancel_order", opt=MONEY, status_code=200)
    async def cancel(self, request: Request[Any, Any, Any], bus: Bus, order_id: OrderId,
                     data: JSONBody[CancelIn]) -> q.OrderView:
        return await bus.handle(o.CancelOrder(order_id=order_id, actor=_actor(request), reason=data.reason))

    @post("/{order_id:str}/refunds", operation_id="admin_refund_order", opt=MONEY, status_code=200)
    async def refund(self, request: Request[Any, Any, Any], bus: Bus, order_id: OrderId,
                     data: JSONBody[RefundIn]) -> q.OrderView:
        return await bus.handle(
            o.RefundOrder(order_id=order_id, actor=_actor(request), amount=data.amount, reason=data.reason))

    @post("/{order_id:str}/notes", operation_id="admin_add_order_note", opt=SUPPORT, status_code=200,
          summary="A note on the order's timeline for whoever handles it next")
    async def add_note(self, request: Request[Any, Any, Any], bus: Bus, order_id: OrderId,
                       data: JSONBody[NoteIn]) -> q.OrderView:
        return await bus.handle(AddOrderNote(order_id=order_id, actor=_actor(request), text=data.text))
