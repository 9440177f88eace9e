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
from application.orders.read_models import OrderFilter, OrderPage
from domain.staff.roles import Role
from entrypoints.http.auth import current_staff, roles, staff_guard

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


class CancelIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class RefundIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    amount: Annotated[int, Meta(ge=1)]
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


def _actor(request: Request[Any, Any, Any]) -> str:
    return f"staff:{current_staff(request).id}"


def _bus(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.container.bus()


class AdminOrderController(Controller):
    path = "/admin/orders"
    tags = ["admin: orders"]
    guards = [staff_guard]

    @get("/", operation_id="admin_list_orders", opt=SUPPORT, summary="Filter by status, date, customer, total")
    async def list_orders(
        self, request: Request[Any, Any, Any],
        status: Annotated[Status | None, QueryParameter(name="status")] = None,
        customer_id: Annotated[str | None, QueryParameter(name="customer_id", max_length=64)] = None,
        placed_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        placed_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
        min_total: Annotated[int | None, QueryParameter(name="min_total", ge=0)] = None,
        max_total: Annotated[int | None, QueryParameter(name="max_total", ge=0)] = None,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
        cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
    ) -> OrderPage:
        page: OrderPage = await _bus(request).handle(q.ListOrders(filter=OrderFilter(
            status=status, customer_id=customer_id, placed_from=placed_from, placed_to=placed_to,
            min_total=min_total, max_total=max_total, limit=limit, cursor=cursor,
        )))
        return page

    @get("/{order_id:str}", operation_id="admin_get_order", opt=SUPPORT, summary="The order and its timeline")
    async def get_order(self, request: Request[Any, Any, Any], order_id: OrderId) -> q.OrderView:
        view: q.OrderView = await _bus(request).handle(q.GetOrder(order_id=order_id))
        return view

    @post("/{order_id:str}/mark-paid", operation_id="admin_mark_paid", opt=MONEY, status_code=200)
    async def mark_paid(self, request: Request[Any, Any, Any], order_id: OrderId) -> q.OrderView:
        view: q.OrderView = await _bus(request).handle(o.MarkPaid(order_id=order_id, actor=_actor(request)))
        return view

    @post("/{order_id:str}/fulfil", operation_id="admin_fulfil_order", opt=FULFILMENT, status_code=200)
    async def fulfil(self, request: Request[Any, Any, Any], order_id: OrderId,
                     data: JSONBody[FulfilIn]) -> q.OrderView:
        view: q.OrderView = await _bus(request).handle(
            o.FulfilOrder(order_id=order_id, actor=_actor(request), lines=data.lines))
        return view

    @post("/{order_id:str}/ship", operation_id="admin_ship_order", opt=FULFILMENT, status_code=200)
    async def ship(self, request: Request[Any, Any, Any], order_id: OrderId, data: JSONBody[ShipIn]) -> q.OrderView:
        view: q.OrderView = await _bus(request).handle(o.ShipOrder(
            order_id=order_id, actor=_actor(request), carrier=data.carrier, tracking_number=data.tracking_number))
        return view

    @post("/{order_id:str}/deliver", operation_id="admin_deliver_order", opt=FULFILMENT, status_code=200)
    async def deliver(self, request: Request[Any, Any, Any], order_id: OrderId) -> q.OrderView:
        view: q.OrderView = await _bus(request).handle(o.DeliverOrder(order_id=order_id, actor=_actor(request)))
        return view

    @post("/{order_id:str}/cancel", operation_id="admin_cancel_order", opt=MONEY, status_code=200)
    async def cancel(self, request: Request[Any, Any, Any], order_id: OrderId,
                     data: JSONBody[CancelIn]) -> q.OrderView:
        view: q.OrderView = await _bus(request).handle(
            o.CancelOrder(order_id=order_id, actor=_actor(request), reason=data.reason))
        return view

    @post("/{order_id:str}/refunds", operation_id="admin_refund_order", opt=MONEY, status_code=200)
    async def refund(self, request: Request[Any, Any, Any], order_id: OrderId,
                     data: JSONBody[RefundIn]) -> q.OrderView:
        view: q.OrderView = await _bus(request).handle(
            o.RefundOrder(order_id=order_id, actor=_actor(request), amount=data.amount, reason=data.reason))
        return view
