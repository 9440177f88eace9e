"""Customer accounts on the storefront: register, sign in/out, profile, address book, password reset."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import JSONBody, PathParameter
from msgspec import Meta

from application.carts.commands import MergeGuestCart
from application.carts.handlers import merge_view
from application.carts.read_models import MergeView
from application.customers import handlers as h
from application.customers.errors import SignInRequired
from domain.carts.cart import MergeReport, Owner
from domain.customers.customer import Customer
from domain.shared.address import Address
from entrypoints.http.addresses import client_address
from entrypoints.http.dependencies import Bus
from entrypoints.http.store.identity import (
    Shopper,
    session_cookies,
    shopper,
    signed_out_cookies,
)

Email = Annotated[str, Meta(min_length=3, max_length=254)]
Password = Annotated[str, Meta(min_length=1, max_length=256)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Short = Annotated[str, Meta(max_length=200)]
Country = Annotated[str, Meta(pattern=r"^[A-Za-z]{2}$")]
AddressId = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class Registration(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email
    password: Password
    name: Name
    marketing_opt_in: bool = False


class Credentials(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email
    password: Password


class ProfileChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name | None = None
    marketing_opt_in: bool | None = None


class AddressBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    line1: Name
    line2: Short = ""
    city: Name
    postal_code: Annotated[str, Meta(max_length=20)]
    country: Country
    region: Short = ""
    phone: Annotated[str, Meta(max_length=40)] = ""
    company: Short = ""
    default_shipping: bool = False
    default_billing: bool = False

    def to_address(self, address_id: str = "") -> Address:
        return Address(
            id=address_id, name=self.name, line1=self.line1, line2=self.line2, city=self.city,
            postal_code=self.postal_code, country=self.country.upper(), region=self.region, phone=self.phone,
            company=self.company,
        )


class ResetRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email


class ResetConfirm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    token: Annotated[str, Meta(min_length=10, max_length=200)]
    password: Password


class AddressView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    line1: str
    line2: str
    city: str
    postal_code: str
    country: str
    region: str
    phone: str
    company: str


class CustomerView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    email: str
    name: str
    marketing_opt_in: bool
    addresses: list[AddressView]
    default_shipping: str | None
    default_billing: str | None


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    customer: CustomerView
    cart_merge: MergeView


def customer_view(customer: Customer) -> CustomerView:
    return CustomerView(
        id=customer.id, email=customer.email, name=customer.name, marketing_opt_in=customer.marketing_opt_in,
        addresses=[_as_struct(a) for a in customer.addresses],
        default_shipping=customer.default_shipping, default_billing=customer.default_billing,
    )


def _as_struct(address: Address) -> AddressView:
    return AddressView(
        id=address.id, name=address.name, line1=address.line1, line2=address.line2, city=address.city,
        postal_code=address.postal_code, country=address.country, region=address.region, phone=address.phone,
        company=address.company,
    )


def _client_ip(request: Request[Any, Any, Any]) -> str:
    return client_address(request)


def _signed_in(who: Shopper) -> str:
    if not who.customer_id:
        raise SignInRequired("sign in first")
    return who.customer_id


async def _start_session(
    bus: Bus, request: Request[Any, Any, Any], who: Shopper, email: str, password: str, status: int,
) -> Response[SessionView]:
    signed = await bus.handle(h.SignIn(email=email, password=password, client_ip=_client_ip(request)))
    if who.session_token:
        await bus.handle(h.SignOut(token=who.session_token))
    report = MergeReport()
    if who.guest_token:
        report = await bus.handle(
            MergeGuestCart(guest=Owner.guest(who.guest_token), customer=Owner.customer(signed.customer_id))
        )
    customer = await bus.handle(h.GetProfile(customer_id=signed.customer_id))
    return Response(
        SessionView(customer=customer_view(customer), cart_merge=merge_view(report)), status_code=status,
        cookies=session_cookies(request, signed.token, max_age=h.SESSION_TTL),
    )


class StoreCustomerController(Controller):
    tags = ["store: customers"]

    @post("/store/customers", operation_id="store_register", summary="Register (and sign in)")
    async def register(self, bus: Bus, request: Request[Any, Any, Any],
                             data: JSONBody[Registration]) -> Response[SessionView]:
        who = await shopper(request)
        await bus.handle(h.RegisterCustomer(
            email=data.email, password=data.password, name=data.name, marketing_opt_in=data.marketing_opt_in,
            client_ip=_client_ip(request),
        ))
        return await _start_session(bus, request, who, data.email, data.password, status=201)

    @post("/store/session", operation_id="store_sign_in", summary="Sign in; the guest cart merges into yours")
    async def sign_in(self, bus: Bus, request: Request[Any, Any, Any],
                            data: JSONBody[Credentials]) -> Response[SessionView]:
        return await _start_session(bus, request, await shopper(request), data.email, data.password, status=200)

    @delete("/store/session", operation_id="store_sign_out", status_code=204)
    async def sign_out(self, bus: Bus, request: Request[Any, Any, Any]) -> Response[None]:
        who = await shopper(request)
        if who.session_token:
            await bus.handle(h.SignOut(token=who.session_token))
        return Response(None, status_code=204, cookies=signed_out_cookies(request))

    @get("/store/customers/me", operation_id="store_me")
    async def me(self, bus: Bus, request: Request[Any, Any, Any]) -> CustomerView:
        customer_id = _signed_in(await shopper(request))
        return customer_view(await bus.handle(h.GetProfile(customer_id=customer_id)))

    @patch("/store/customers/me", operation_id="store_update_me")
    async def update_me(self, bus: Bus, request: Request[Any, Any, Any],
                              data: JSONBody[ProfileChange]) -> CustomerView:
        customer_id = _signed_in(await shopper(request))
        customer = await bus.handle(
            h.UpdateProfile(customer_id=customer_id, name=data.name, marketing_opt_in=data.marketing_opt_in)
        )
        return customer_view(customer)

    @post("/store/customers/me/addresses", operation_id="store_add_address")
    async def add_address(self, bus: Bus, request: Request[Any, Any, Any],
                                data: JSONBody[AddressBody]) -> CustomerView:
        customer_id = _signed_in(await shopper(request))
        customer, _ = await bus.handle(h.AddAddress(
            customer_id=customer_id, address=data.to_address(), default_shipping=data.default_shipping,
            default_billing=data.default_billing,
        ))
        return customer_view(customer)

    @put("/store/customers/me/addresses/{address_id:str}", operation_id="store_replace_address")
    async def replace_address(
        self, bus: Bus, request: Request[Any, Any, Any], address_id: AddressId, data: JSONBody[AddressBody],
    ) -> CustomerView:
        customer_id = _signed_in(await shopper(request))
        customer = await bus.handle(
            h.ReplaceAddress(customer_id=customer_id, address=data.to_address(address_id))
        )
        return customer_view(customer)

    @delete("/store/customers/me/addresses/{address_id:str}", operation_id="store_remove_address", status_code=200)
    async def remove_address(self, bus: Bus, request: Request[Any, Any, Any],
                                   address_id: AddressId) -> CustomerView:
        customer_id = _signed_in(await shopper(request))
        customer = await bus.handle(
            h.RemoveAddress(customer_id=customer_id, address_id=address_id)
        )
        return customer_view(customer)

    @post("/store/password-resets", operation_id="store_request_password_reset", status_code=202)
    async def request_reset(self, bus: Bus, request: Request[Any, Any, Any],
                            data: JSONBody[ResetRequest]) -> dict[str, str]:
        await bus.handle(h.RequestPasswordReset(email=data.email, client_ip=_client_ip(request)))
        return {"status": "if the address has an account, a reset link is on its way"}

    @post("/store/password-resets/confirm", operation_id="store_reset_password", status_code=204)
    async def confirm_reset(self, bus: Bus, request: Request[Any, Any, Any],
                                  data: JSONBody[ResetConfirm]) -> Response[None]:
        await bus.handle(h.ResetPassword(token=data.token, password=data.password, client_ip=_client_ip(request)))
        return Response(None, status_code=204, cookies=signed_out_cookies(request))
