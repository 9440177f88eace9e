"""Product types through the bus: create, read, list, change (the attribute list replaces the old one, refused
where products of the type would no longer conform) and delete (refused while products use the type)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from application.catalog.ports import CatalogUnitOfWork
from application.messaging.registry import Command, handler
from application.messaging.retry import expect_version
from application.ports.clock import Clock, IdGenerator
from domain.catalog.attributes import AttributeDefinition, AttributeKind
from domain.catalog.errors import CatalogError, ProductTypeNotFound
from domain.catalog.types import ProductType

Uow = Callable[[], CatalogUnitOfWork]


@dataclass(frozen=True, slots=True, kw_only=True)
class DefinitionSpec:
    code: str
    label: str
    kind: str  # text, number, boolean, enum or date
    required: bool = False
    unit: str | None = None
    allowed_values: list[str] = field(default_factory=list)
    multiple: bool = False
    filterable: bool = False
    facetable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateProductType(Command[str]):
    code: str
    name: str
    attributes: list[DefinitionSpec] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateProductType(Command[int]):
    """``attributes`` replaces the whole list: add one by giving it beside the others, remove one by leaving
    it out. The type's code never changes."""

    product_type_id: str
    expected_version: int | None = None
    name: str | None = None
    attributes: list[DefinitionSpec] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteProductType(Command[None]):
    product_type_id: str


class AttributeDefinitionView(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label: str
    kind: str
    required: bool
    unit: str | None
    allowed_values: list[str]
    multiple: bool
    filterable: bool
    facetable: bool


class ProductTypeView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    code: str
    name: str
    version: int
    attributes: list[AttributeDefinitionView]
    products: int | None = None  # how many products have this type (on a read of one type)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetProductType(Command[ProductTypeView]):
    product_type_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListProductTypes(Command[list[ProductTypeView]]):
    pass


def _definition(spec: DefinitionSpec) -> AttributeDefinition:
    try:
        kind = AttributeKind(spec.kind)
    except ValueError:
        kinds = ", ".join(k.value for k in AttributeKind)
        raise CatalogError(f"attribute {spec.code!r}: unknown kind {spec.kind!r} (one of {kinds})") from None
    return AttributeDefinition(
        code=spec.code, label=spec.label.strip(), kind=kind, required=spec.required, unit=spec.unit,
        allowed=tuple(spec.allowed_values), multiple=spec.multiple, filterable=spec.filterable,
        facetable=spec.facetable,
    )


def type_view(product_type: ProductType, *, products: int | None = None) -> ProductTypeView:
    return ProductTypeView(
        id=product_type.id, code=product_type.code, name=product_type.name, version=product_type.version,
        products=products,
        attributes=[
            AttributeDefinitionView(code=d.code, label=d.label, kind=d.kind.value, required=d.required, unit=d.unit,
                                    allowed_values=list(d.allowed), multiple=d.multiple, filterable=d.filterable,
                                    facetable=d.facetable)
            for d in product_type.definitions
        ],
    )


@handler
async def create_product_type(cmd: CreateProductType, *, uow: Uow, clock: Clock, ids: IdGenerator) -> str:
    product_type = ProductType.create(id=ids.new_id(), code=cmd.code, name=cmd.name, now=clock.now(),
                                      definitions=tuple(_definition(s) for s in cmd.attributes))
    async with uow() as tx:
        await tx.product_types.add(product_type)
        await tx.commit()
    return product_type.id


@handler
async def update_product_type(cmd: UpdateProductType, *, uow: Uow, clock: Clock) -> int:
    definitions = None if cmd.attributes is None else tuple(_definition(s) for s in cmd.attributes)
    async with uow() as tx:
        product_type = await tx.product_types.get(cmd.product_type_id)
        expect_version(product_type, cmd.expected_version, what="product type")
        usage = await tx.product_types.usage(product_type.id)
        product_type.revise(now=clock.now(), usage=usage, name=cmd.name, definitions=definitions)
        await tx.product_types.save(product_type)
        await tx.commit()
    return product_type.version


@handler
async def delete_product_type(cmd: DeleteProductType, *, uow: Uow, clock: Clock) -> None:
    async with uow() as tx:
        product_type = await tx.product_types.get(cmd.product_type_id)
        product_type.delete(now=clock.now(), usage=await tx.product_types.usage(product_type.id))
        await tx.product_types.remove(product_type)
        await tx.commit()


@handler
async def get_product_type(cmd: GetProductType, *, uow: Uow) -> ProductTypeView:
    async with uow() as tx:
        product_type = (await tx.product_types.get_many([cmd.product_type_id])).get(cmd.product_type_id)
        if product_type is None:
            raise ProductTypeNotFound(f"no product type {cmd.product_type_id}")
        usage = await tx.product_types.usage(cmd.product_type_id)
    return type_view(product_type, products=usage.products)


@handler
async def list_product_types(_: ListProductTypes, *, uow: Uow) -> list[ProductTypeView]:
    async with uow() as tx:
        return [type_view(t) for t in await tx.product_types.all()]
