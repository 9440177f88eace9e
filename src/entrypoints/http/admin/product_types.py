"""Product types for merchandisers: the attributes a kind of product has. Every change is a command on the bus."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter
from msgspec import UNSET, Meta, UnsetType

from application.catalog import types as pt
from entrypoints.http.admin.products import MERCHANDISER, AttributeName, Name, Saved, Strict
from entrypoints.http.auth import staff_guard
from entrypoints.http.dependencies import Bus

TypeCode = Annotated[str, Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
Kind = Annotated[str, Meta(pattern=r"^(text|number|boolean|enum|date)$")]
Label = Annotated[str, Meta(min_length=1, max_length=100)]
PathId = Annotated[str, PathParameter(max_length=64)]


class DefinitionIn(Strict):
    """One attribute: ``unit`` for a number (``kg``), ``allowed_values`` for an enum, ``multiple`` for a text or
    enum attribute holding a list; ``facetable`` (counted in search facets) needs ``filterable``."""

    code: AttributeName
    label: Label
    kind: Kind
    required: bool = False
    unit: Annotated[str, Meta(min_length=1, max_length=16)] | None = None
    allowed_values: Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(max_length=200)] = []
    multiple: bool = False
    filterable: bool = False
    facetable: bool = False


Definitions = Annotated[list[DefinitionIn], Meta(max_length=100)]


class ProductTypeIn(Strict):
    code: TypeCode
    name: Name
    attributes: Definitions = []


class ProductTypeUpdate(Strict):
    """``attributes`` replaces the list: keep the ones to keep, add new ones, change allowed values."""

    expected_version: int | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    attributes: Definitions | UnsetType = UNSET


class Created(msgspec.Struct, kw_only=True):
    id: str


def _specs(definitions: list[DefinitionIn]) -> list[pt.DefinitionSpec]:
    return [pt.DefinitionSpec(code=d.code, label=d.label, kind=d.kind, required=d.required, unit=d.unit,
                              allowed_values=d.allowed_values, multiple=d.multiple, filterable=d.filterable,
                              facetable=d.facetable) for d in definitions]


class AdminProductTypeController(Controller):
    path = "/admin/product-types"
    tags = ["admin: catalog"]
    guards = [staff_guard]

    @post("/", operation_id="admin_create_product_type", opt=MERCHANDISER, status_code=201)
    async def create(self, bus: Bus, data: JSONBody[ProductTypeIn]) -> Created:
        type_id = await bus.handle(pt.CreateProductType(code=data.code, name=data.name,
                                                        attributes=_specs(data.attributes)))
        return Created(id=type_id)

    @get("/", operation_id="admin_list_product_types", opt=MERCHANDISER)
    async def list_types(self, bus: Bus) -> list[pt.ProductTypeView]:
        return await bus.handle(pt.ListProductTypes())

    @get("/{product_type_id:str}", operation_id="admin_get_product_type", opt=MERCHANDISER)
    async def get_type(self, bus: Bus, product_type_id: PathId) -> pt.ProductTypeView:
        return await bus.handle(pt.GetProductType(product_type_id=product_type_id))

    @patch("/{product_type_id:str}", operation_id="admin_update_product_type", opt=MERCHANDISER)
    async def update(self, bus: Bus, product_type_id: PathId, data: JSONBody[ProductTypeUpdate]) -> Saved:
        version = await bus.handle(pt.UpdateProductType(
            product_type_id=product_type_id,
            expected_version=None if data.expected_version is UNSET else data.expected_version,
            name=None if data.name is UNSET else data.name,
            attributes=None if data.attributes is UNSET else _specs(data.attributes),
        ))
        return Saved(id=product_type_id, version=version)

    @delete("/{product_type_id:str}", operation_id="admin_delete_product_type", opt=MERCHANDISER, status_code=204)
    async def remove(self, bus: Bus, product_type_id: PathId) -> None:
        await bus.handle(pt.DeleteProductType(product_type_id=product_type_id))
