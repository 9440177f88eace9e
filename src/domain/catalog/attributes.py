"""Product attributes: their values, and the definitions a product type gives them (a kind — text, number
with a unit, boolean, enum with its allowed values, date —, required or not, filterable, facetable)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from domain.catalog.errors import AttributesRefused, CatalogError

AttributeValue = str | int | float | bool | date | tuple[str, ...]

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_TEXT = 1000
MAX_ALLOWED = 200
MAX_DEFINITIONS = 100


def check_attribute_names(attributes: Mapping[str, AttributeValue]) -> None:
    """The rules every attribute keeps, typed or not: a lower-case name, a multi-value holds text."""
    for key, value in attributes.items():
        if not KEY.match(key):
            raise CatalogError(f"invalid attribute name {key!r}")
        if isinstance(value, tuple) and not all(isinstance(v, str) for v in value):
            raise CatalogError(f"attribute {key!r}: a multi-value attribute holds text values")


class AttributeKind(Enum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    DATE = "date"


def _described(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, tuple | list):
        return "a list"
    return f"a {type(value).__name__}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeDefinition:
    """One attribute a product type defines. ``unit``: a number's (``kg``); ``allowed``: an enum's values in
    display order; ``multiple``: a text or enum attribute holding a list; ``facetable``: counted in search
    facets (a facet filters, so it is filterable too)."""

    code: str
    label: str
    kind: AttributeKind
    required: bool = False
    unit: str | None = None
    allowed: tuple[str, ...] = ()
    multiple: bool = False
    filterable: bool = False
    facetable: bool = False

    def check(self) -> None:
        """Refuse a definition that cannot be kept (a ``CatalogError`` naming the attribute)."""
        where = f"attribute {self.code!r}"
        if not KEY.match(self.code):
            raise CatalogError(f"invalid attribute code {self.code!r}: lower-case letters, digits and _")
        if not self.label.strip() or len(self.label) > 100:
            raise CatalogError(f"{where} needs a label of 1 to 100 characters")
        if self.unit is not None and (self.kind is not AttributeKind.NUMBER or not 1 <= len(self.unit.strip()) <= 16):
            raise CatalogError(f"{where}: only a number has a unit, of 1 to 16 characters")
        if (self.kind is AttributeKind.ENUM) != bool(self.allowed):
            raise CatalogError(f"{where}: an enum lists its allowed values, other kinds none")
        if len(self.allowed) > MAX_ALLOWED or len(set(self.allowed)) != len(self.allowed):
            raise CatalogError(f"{where}: at most {MAX_ALLOWED} allowed values, each once")
        if any(not v.strip() or len(v) > 100 for v in self.allowed):
            raise CatalogError(f"{where}: an allowed value has 1 to 100 characters")
        if self.multiple and self.kind not in (AttributeKind.TEXT, AttributeKind.ENUM):
            raise CatalogError(f"{where}: only text and enum attributes hold several values")
        if self.facetable and not self.filterable:
            raise CatalogError(f"{where}: a facet filters the products, so a facetable attribute is filterable")

    def accept(self, value: object) -> AttributeValue:
        """The value as kept, or ``ValueError`` saying why this attribute refuses it."""
        if self.multiple:
            if not isinstance(value, tuple | list):
                raise ValueError(f"expects a list of {self._expected()}, not {_described(value)}")
            items = tuple(self._one(v) for v in value)
            if len(set(items)) != len(items):
                raise ValueError("repeats a value")
            return tuple(str(v) for v in items)
        return self._one(value)

    def _expected(self) -> str:
        if self.kind is AttributeKind.NUMBER:
            return f"a number (in {self.unit})" if self.unit else "a number"
        if self.kind is AttributeKind.BOOLEAN:
            return "true or false"
        if self.kind is AttributeKind.ENUM:
            return "one of " + ", ".join(self.allowed)
        if self.kind is AttributeKind.DATE:
            return "a date (YYYY-MM-DD)"
        return "text"

    def _one(self, value: object) -> AttributeValue:
        kind = self.kind
        if kind is AttributeKind.BOOLEAN and isinstance(value, bool):
            return value
        if kind is AttributeKind.NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"expects {self._expected()}, not {value}")
            return value
        if kind is AttributeKind.DATE:
            if isinstance(value, date) and not isinstance(value, datetime):
                return value
            if isinstance(value, str) and _ISO_DATE.match(value):
                try:
                    return date.fromisoformat(value)
                except ValueError:
                    raise ValueError(f"{value!r} is not a day of the calendar") from None
        if kind is AttributeKind.TEXT and isinstance(value, str):
            if not value.strip() or len(value) > MAX_TEXT:
                raise ValueError(f"expects text of 1 to {MAX_TEXT} characters")
            return value
        if kind is AttributeKind.ENUM and isinstance(value, str):
            if value not in self.allowed:
                raise ValueError(f"{value!r} is not allowed: expects {self._expected()}")
            return value
        raise ValueError(f"expects {self._expected()}, not {_described(value)}")


def texts(value: AttributeValue) -> list[str]:
    """A kept value as the words filters and facets compare: ``true``, ``0.85``, ``2026-05-01``, each of a list."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, bool):
        return [str(value).lower()]
    if isinstance(value, date):
        return [value.isoformat()]
    return [str(value)]


def conform(definitions: tuple[AttributeDefinition, ...], values: Mapping[str, object],
            *, type_name: str) -> dict[str, AttributeValue]:
    """The values as the definitions keep them; ``AttributesRefused`` names every attribute refused and why:
    one the type does not define, a value of the wrong kind, a required one missing."""
    by_code = {d.code: d for d in definitions}
    errors: dict[str, str] = {}
    kept: dict[str, AttributeValue] = {}
    for code, value in values.items():
        definition = by_code.get(code)
        if definition is None:
            errors[code] = f"product type {type_name!r} defines no attribute {code!r}"
            continue
        try:
            kept[code] = definition.accept(value)
        except ValueError as error:
            errors[code] = str(error)
    for definition in definitions:
        if definition.required and definition.code not in values:
            errors[definition.code] = f"required by product type {type_name!r}"
    if errors:
        raise AttributesRefused(errors)
    return kept
