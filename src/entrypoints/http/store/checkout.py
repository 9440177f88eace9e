"""The storefront checkout: ``/store/checkout``. The shopper sends choices; the server sends amounts."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Meta

from application.carts.errors import CartNotFound
from application.checkout import commands as c
from application.checkout.errors import IdempotencyKeyRequired
from application.checkout.read_models import CheckoutView, PlacedOrderView, ShippingOptionView
from application.customers.errors import SignInRequired
from application.orders.queries import GetOrder, ListOrders, OrderView
from application.orders.read_models import OrderFilter, OrderPage
from domain.carts.cart import Owner
from domain.shared.address import Address
from entrypoints.http.addresses import client_address
from entrypoints.http.dependencies import Bus
from entrypoints.http.store.drops import admission_of
from entrypoints.http.store.identity import shopper

CheckoutId = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Short = Annotated[str, Meta(max_length=200)]


class Contact(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Annotated[str, Meta(min_length=3, max_length=254)]


class PostalAddress(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    line1: Name
    line2: Short = ""
    city: Name
    postal_code: Annotated[str, Meta(max_length=20)]
    country: Annotated[str, Meta(pattern=r"^[A-Za-z]{2}$")]
    region: Short = ""
    phone: Annotated[str, Meta(max_length=40)] = ""
    company: Short = ""

    def to_address(self) -> Address:
        return Address(name=self.name, line1=self.line1, line2=self.line2, city=self.city,
                       postal_code=self.postal_code, country=self.country.upper(), region=self.region.upper(),
                       phone=self.phone, company=self.company)


class Addresses(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    shipping: PostalAddress
    billing: PostalAddress | None = None


class ShippingChoice(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    method_id: Annotated[str, Meta(min_length=1, max_length=64)]


class PaymentChoice(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    provider: Annotated[str, Meta(pattern=r"^(manual|stripe)$")]
    gift_card: Annotated[str, Meta(min_length=4, max_length=32)] | None = None  # pays first; the provider the rest


async def _owner(request: Request[Any, Any, Any]) -> Owner:
    who = await shopper(request)
    if who.owner is None:
        raise CartNotFound("no cart")
    return who.owner



class StoreCheckoutController(Controller):
    path = "/store/checkout"
    tags = ["store: checkout"]

    @post("/", operation_id="store_start_checkout", summary="Start a checkout from the current cart")
    async def start(self, bus: Bus, request: Request[Any, Any, Any]) -> CheckoutView:
        return await bus.handle(c.StartCheckout(owner=await _owner(request)))

    @get("/{checkout_id:str}", operation_id="store_get_checkout", summary="Resume: the checkout and its next step")
    async def get_checkout(self, bus: Bus, request: Request[Any, Any, Any],
                                 checkout_id: CheckoutId) -> CheckoutView:
        return await bus.handle(
            c.GetCheckout(owner=await _owner(request), checkout_id=checkout_id))

    @put("/{checkout_id:str}/contact", operation_id="store_checkout_contact")
    async def contact(
        self, bus: Bus, request: Request[Any, Any, Any], checkout_id: CheckoutId, data: JSONBody[Contact],
    ) -> CheckoutView:
        return await bus.handle(
            c.SetContact(owner=await _owner(request), checkout_id=checkout_id, email=data.email))

    @put("/{checkout_id:str}/address", operation_id="store_checkout_address")
    async def address(
        self, bus: Bus, request: Request[Any, Any, Any], checkout_id: CheckoutId, data: JSONBody[Addresses],
    ) -> CheckoutView:
        return await bus.handle(c.SetAddress(
            owner=await _owner(request), checkout_id=checkout_id, shipping=data.shipping.to_address(),
            billing=data.billing.to_address() if data.billing else None,
        ))

    @get("/{checkout_id:str}/shipping-options", operation_id="store_checkout_shipping_options")
    async def shipping_options(
        self, bus: Bus, request: Request[Any, Any, Any], checkout_id: CheckoutId,
    ) -> list[ShippingOptionView]:
        return await bus.handle(
            c.ShippingOptions(owner=await _owner(request), checkout_id=checkout_id))

    @put("/{checkout_id:str}/shipping", operation_id="store_checkout_shipping")
    async def shipping(
        self, bus: Bus, request: Request[Any, Any, Any], checkout_id: CheckoutId, data: JSONBody[ShippingChoice],
    ) -> CheckoutView:
        return await bus.handle(
            c.ChooseShipping(owner=await _owner(request), checkout_id=checkout_id, method_id=data.method_id))

    @post("/{checkout_id:str}/payment", operation_id="store_checkout_payment", status_code=200,
          summary="Freeze the priced cart and hold the stock; nothing is charged yet")
    async def payment(
        self, bus: Bus, request: Request[Any, Any, Any], checkout_id: CheckoutId, data: JSONBody[PaymentChoice],
    ) -> CheckoutView:
        return await bus.handle(
            c.StartPayment(owner=await _owner(request), checkout_id=checkout_id, provider=data.provider,
                           gift_card=data.gift_card, client_ip=client_address(request, default="") or None,
                           admission=admission_of(request)))

    @post("/{checkout_id:str}/place", operation_id="store_checkout_place", status_code=201,
          summary="Place the order (Idempotency-Key required); Stripe returns the client secret")
    async def place(self, bus: Bus, request: Request[Any, Any, Any], checkout_id: CheckoutId) -> PlacedOrderView:
        if not request.headers.get("idempotency-key"):
            raise IdempotencyKeyRequired("placing an order needs an Idempotency-Key header")
        return await bus.handle(
            c.PlaceOrder(owner=await _owner(request), checkout_id=checkout_id))


class StoreOrderController(Controller):
    path = "/store/orders"
    tags = ["store: orders"]

    @get("/", operation_id="store_list_orders", summary="My order history (signed-in customers), newest first")
    async def history(
        self, bus: Bus, request: Request[Any, Any, Any],
        cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=100)] = 20,
    ) -> OrderPage:
        who = await shopper(request)
        if not who.customer_id:
            raise SignInRequired("sign in to see your orders")
        return await bus.handle(
            ListOrders(filter=OrderFilter(customer_id=who.customer_id, cursor=cursor, limit=limit)))

    @get("/{order_id:str}", operation_id="store_get_order", summary="One of my orders")
    async def get_order(self, bus: Bus, request: Request[Any, Any, Any], order_id: CheckoutId) -> OrderView:
        return await bus.handle(GetOrder(order_id=order_id, owner=await _owner(request)))
