"""In-memory product types; what the products of a type hold, read from the fake's products."""

from __future__ import annotations

from adapters.memory.database import MemoryDatabase
from adapters.memory.versions import MemoryVersions
from domain.catalog.attributes import AttributeKind, texts
from domain.catalog.errors import ProductTypeCodeTaken, ProductTypeInUse, ProductTypeNotFound
from domain.catalog.types import ProductType, TypeUsage
from domain.shared.events import Aggregate

KIND = "product type"


class MemoryProductTypes:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate], versions: MemoryVersions) -> None:
        self._data = data
        self._types: dict[str, ProductType] = data.extra.setdefault("product_types", {})
        self._seen = seen
        self._versions = versions

    def _track(self, product_type: ProductType) -> ProductType:
        self._seen.append(product_type)
        self._versions.remember(KIND, product_type.id, product_type.version)
        return product_type

    async def add(self, product_type: ProductType) -> None:
        if any(t.code == product_type.code for t in self._types.values()):
            raise ProductTypeCodeTaken(f"another product type has the code {product_type.code}")
        self._types[product_type.id] = product_type
        self._track(product_type)

    async def held(self, type_id: str) -> ProductType:
        try:
            return self._types[type_id]
        except KeyError:
            raise ProductTypeNotFound(f"no product type {type_id}") from None

    async def get(self, type_id: str) -> ProductType:
        return self._track(await self.held(type_id))

    def _stored(self, type_id: str) -> int | None:
        stored = self._versions.database.extra.get("product_types", {}).get(type_id)
        return None if stored is None else stored.version

    async def save(self, product_type: ProductType) -> None:
        if not self._versions.changed(KIND, product_type.id, product_type.version,
                                      stored=self._stored(product_type.id)):
            return  # unchanged since it was loaded
        self._types[product_type.id] = product_type
        self._versions.saved(KIND, product_type.id, product_type.version)

    async def remove(self, product_type: ProductType) -> None:
        self._versions.changed(KIND, product_type.id, product_type.version, stored=self._stored(product_type.id))
        if await self.products_of([product_type.id]):
            raise ProductTypeInUse({"product_type": "products use it"})
        self._types.pop(product_type.id, None)

    async def usage(self, type_id: str) -> TypeUsage:
        products = [p for p in self._data.products.values() if p.product_type_id == type_id]
        holding: dict[str, int] = {}
        for product in products:
            for code in product.attributes:
                holding[code] = holding.get(code, 0) + 1
        product_type = self._types.get(type_id)
        enums = {d.code for d in product_type.definitions if d.kind is AttributeKind.ENUM} if product_type else set()
        values: dict[str, set[str]] = {}
        for product in products:
            for code, value in product.attributes.items():
                if code in enums:
                    values.setdefault(code, set()).update(texts(value))
        return TypeUsage(products=len(products), holding=holding, values={k: frozenset(v) for k, v in values.items()})

    async def all(self) -> list[ProductType]:
        return sorted(self._types.values(), key=lambda t: t.code)

    async def get_many(self, type_ids: list[str]) -> dict[str, ProductType]:
        return {i: self._types[i] for i in type_ids if i in self._types}

    async def products_of(self, type_ids: list[str]) -> list[str]:
        wanted = set(type_ids)
        return sorted(p.id for p in self._data.products.values() if p.product_type_id in wanted)
