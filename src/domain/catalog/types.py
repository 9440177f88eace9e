"""Product types: the attributes a kind of product has (a rain jacket: weight in kg, waterproof, a season).
A product of a type holds exactly the values its definitions accept; a change to the type is refused where
the products of the type would no longer conform."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.catalog.attributes import MAX_DEFINITIONS, AttributeDefinition, AttributeKind, AttributeValue, conform
from domain.catalog.errors import CatalogError, ProductTypeInUse
from domain.shared.events import Aggregate, DomainEvent

_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeUsage:
    """What the products of a type hold now: how many there are, how many hold a value of each attribute,
    and the text of the values used of each enum attribute."""

    products: int = 0
    holding: Mapping[str, int] = field(default_factory=dict)
    values: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductTypeChanged(DomainEvent):
    """Created or changed: the documents of its products show its labels and units and follow its facets."""

    topic = "catalog.product_type_changed.v1"
    code: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductTypeDeleted(DomainEvent):
    topic = "catalog.product_type_deleted.v1"
    code: str


def _check(code: str, name: str, definitions: tuple[AttributeDefinition, ...]) -> None:
    if not _CODE.match(code) or len(code) > 64:
        raise CatalogError(f"invalid product type code {code!r}: lower-case words joined by dashes")
    if not name.strip() or len(name) > 200:
        raise CatalogError("a product type needs a name of 1 to 200 characters")
    codes = [d.code for d in definitions]
    if len(set(codes)) != len(codes) or len(codes) > MAX_DEFINITIONS:
        raise CatalogError(f"a product type defines at most {MAX_DEFINITIONS} attributes, each code once")
    for definition in definitions:
        definition.check()


class ProductType(Aggregate):
    def __init__(self, *, id: str, code: str, name: str, definitions: tuple[AttributeDefinition, ...] = (),
                 version: int = 0) -> None:
        self.id = id
        self.code = code
        self.name = name
        self.definitions = definitions
        self.version = version
        self.events = []

    @classmethod
    def create(cls, *, id: str, code: str, name: str, definitions: tuple[AttributeDefinition, ...],
               now: datetime) -> ProductType:
        _check(code, name, definitions)
        product_type = cls(id=id, code=code, name=name.strip(), definitions=definitions)
        product_type._changed(now)
        return product_type

    def _changed(self, now: datetime) -> None:
        self.version += 1
        self._record(ProductTypeChanged(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now,
                                        code=self.code, name=self.name))

    def definition(self, code: str) -> AttributeDefinition | None:
        return next((d for d in self.definitions if d.code == code), None)

    def conform(self, values: Mapping[str, object]) -> dict[str, AttributeValue]:
        """A product's attribute values as this type keeps them, or ``AttributesRefused`` naming each one refused."""
        return conform(self.definitions, values, type_name=self.code)

    def revise(self, *, now: datetime, usage: TypeUsage, name: str | None = None,
               definitions: tuple[AttributeDefinition, ...] | None = None) -> None:
        """Rename it, or define its attributes anew (added, changed, removed: the list replaces the old one).
        All or nothing: a change its products would no longer conform to is refused (``ProductTypeInUse``)."""
        new_name = self.name if name is None else name.strip()
        new_definitions = self.definitions if definitions is None else definitions
        _check(self.code, new_name, new_definitions)
        errors = _refusals(self.definitions, new_definitions, usage)
        if errors:
            raise ProductTypeInUse(errors)
        if (new_name, new_definitions) != (self.name, self.definitions):
            self.name, self.definitions = new_name, new_definitions
            self._changed(now)

    def delete(self, *, now: datetime, usage: TypeUsage) -> None:
        """Refused while products use it (give them another type, or none, first)."""
        if usage.products:
            raise ProductTypeInUse({"product_type": f"{usage.products} products use it"})
        self.version += 1
        self._record(ProductTypeDeleted(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now,
                                        code=self.code))


def _refusals(old: tuple[AttributeDefinition, ...], new: tuple[AttributeDefinition, ...],
              usage: TypeUsage) -> dict[str, str]:
    """Why each attribute's change would leave products of the type that no longer conform."""
    errors: dict[str, str] = {}
    before = {d.code: d for d in old}
    for definition in new:
        code, held = definition.code, usage.holding.get(definition.code, 0)
        was = before.pop(code, None)
        missing = usage.products - held
        if was is None:
            if definition.required and usage.products:
                errors[code] = (f"cannot be required yet: {usage.products} products of this type have no value "
                                "(add it optional, give them values, then require it)")
            continue
        if held and (definition.kind, definition.multiple) != (was.kind, was.multiple):
            errors[code] = f"{held} products hold {was.kind.value} values: its kind cannot change"
        elif held and definition.unit != was.unit:
            errors[code] = f"{held} products hold values in {was.unit}: its unit cannot change"
        elif definition.required and not was.required and missing:
            errors[code] = f"cannot be required yet: {missing} products of this type have no value"
        elif definition.kind is AttributeKind.ENUM:
            dropped = sorted(usage.values.get(code, frozenset()) - set(definition.allowed))
            if dropped:
                errors[code] = f"values still used by products of this type: {', '.join(dropped)}"
    for code in before:
        if usage.holding.get(code, 0):
            errors[code] = f"{usage.holding[code]} products hold a value: remove it from them first"
    return errors
