"""The storefront cart: ``/store/cart``. Bodies carry SKUs, quantities and codes — never money."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter
from msgspec import Meta

from application.carts import commands as c
from application.carts.errors import CartNotFound
from application.carts.read_models import CartView
from domain.carts.cart import MAX_LINE_QUANTITY, Owner
from entrypoints.http.addresses import client_address
from entrypoints.http.dependencies import Bus
from entrypoints.http.store.drops import admission_of
from entrypoints.http.store.identity import Shopper, guest_owner, shopper

Sku = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
LineId = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
# The range is checked again by the cart (the per-line limit); here it keeps absurd input out.
Quantity = Annotated[int, Meta(ge=1, le=10_000)]
Code = Annotated[str, Meta(min_length=1, max_length=64)]


class AddLine(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sku: Sku
    quantity: Quantity = 1


class ChangeLine(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    quantity: Quantity


class CouponBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code


async def _answer(bus: Bus, request: Request[Any, Any, Any], who: Shopper, status: int = 200,
                  ) -> Response[CartView]:
    view = await bus.handle(c.ViewCart(owner=who.owner, channel=_channel(request)))
    return Response(view, status_code=status, cookies=who.new_cookies)


class StoreCartController(Controller):
    path = "/store/cart"
    tags = ["store: cart"]

    @get("/", operation_id="store_get_cart", summary="The cart, priced now")
    async def get_cart(self, bus: Bus, request: Request[Any, Any, Any]) -> Response[CartView]:
        return await _answer(bus, request, await shopper(request))

    @post("/lines", operation_id="store_add_cart_line", summary=f"Add a SKU (same SKU adds up, ≤ {MAX_LINE_QUANTITY})")
    async def add_line(self, bus: Bus, request: Request[Any, Any, Any],
                             data: JSONBody[AddLine]) -> Response[CartView]:
        who = await shopper(request)
        minted = who.owner is None
        owner = guest_owner(request, who)
        await bus.handle(c.AddCartLine(
            owner=owner, sku=data.sku, quantity=data.quantity, channel=_channel(request), new_owner=minted,
            admission=admission_of(request),
        ))
        return await _answer(bus, request, who, status=201)

    @patch("/lines/{line_id:str}", operation_id="store_change_cart_line")
    async def change_line(
        self, bus: Bus, request: Request[Any, Any, Any], line_id: LineId, data: JSONBody[ChangeLine],
    ) -> Response[CartView]:
        who = await shopper(request)
        await bus.handle(
            c.ChangeCartLine(owner=_owner(who), line_id=line_id, quantity=data.quantity)
        )
        return await _answer(bus, request, who)

    @delete("/lines/{line_id:str}", operation_id="store_remove_cart_line", status_code=200)
    async def remove_line(self, bus: Bus, request: Request[Any, Any, Any],
                                line_id: LineId) -> Response[CartView]:
        who = await shopper(request)
        await bus.handle(c.RemoveCartLine(owner=_owner(who), line_id=line_id))
        return await _answer(bus, request, who)

    @post("/coupons", operation_id="store_apply_coupon")
    async def apply_coupon(self, bus: Bus, request: Request[Any, Any, Any],
                                 data: JSONBody[CouponBody]) -> Response[CartView]:
        who = await shopper(request)
        owner = guest_owner(request, who)
        await bus.handle(
            c.ApplyCoupon(owner=owner, code=data.code, channel=_channel(request),
                          client_ip=client_address(request, default="") or None)
        )
        return await _answer(bus, request, who)

    @delete("/coupons/{code:str}", operation_id="store_remove_coupon", status_code=200)
    async def remove_coupon(
        self, bus: Bus, request: Request[Any, Any, Any], code: Annotated[str, PathParameter(max_length=64)],
    ) -> Response[CartView]:
        who = await shopper(request)
        await bus.handle(c.RemoveCoupon(owner=_owner(who), code=code))
        return await _answer(bus, request, who)


def _channel(request: Request[Any, Any, Any]) -> str | None:
    """The storefront's sales channel (``X-Channel``); it only matters when a cart is created."""
    return request.headers.get("x-channel") or None


def _owner(who: Shopper) -> Owner:
    """Changing a line needs a cart: without a session or cart cookie there is none (404)."""
    if who.owner is None:
        raise CartNotFound("no cart")
    return who.owner
