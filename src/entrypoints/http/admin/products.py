from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody
from msgspec import Meta

from application.catalog.commands import CreateProduct
from domain.staff.roles import Role
from entrypoints.http.auth import roles, staff_guard

Sku = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", max_length=64)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
MinorUnits = Annotated[int, Meta(ge=0, le=10**12)]
Slug = Annotated[str, Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=200)]


class ProductCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    sku: Sku
    price: MinorUnits
    currency: Currency
    slug: Slug | None = None


class ProductCreated(msgspec.Struct, kw_only=True):
    id: str


class AdminProductController(Controller):
    path = "/admin/products"
    tags = ["admin: catalog"]
    guards = [staff_guard]

    @post("/", operation_id="admin_create_product", opt=roles(Role.MERCHANDISER), status_code=201)
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[ProductCreate]) -> ProductCreated:
        bus = request.app.state.container.bus()
        product_id = await bus.handle(
            CreateProduct(
                name=data.name, sku=data.sku, price_amount=data.price,
                currency=data.currency, slug=data.slug,
            )
        )
        return ProductCreated(id=product_id)
