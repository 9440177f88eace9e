from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.messaging.registry import Command
from domain.catalog.pricing import KEEP, Keep


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantSpec:
    sku: str
    option_values: dict[str, str] = field(default_factory=dict)
    weight_grams: int = 0
    barcode: str | None = None
    components: list[tuple[str, int]] = field(default_factory=list)
    requires_online_payment: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateProduct(Command[str]):
    """Either the simple form (``sku`` + ``price_amount`` + ``currency``: one variant, priced in the
    currency's default list, active at once) or the full form (options, variants; a draft)."""

    name: str
    sku: str | None = None
    price_amount: int | None = None
    currency: str | None = None
    slug: str | None = None
    description: str = ""
    status: str | None = None
    options: list[tuple[str, list[str]]] = field(default_factory=list)
    variants: list[VariantSpec] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    media: list[tuple[str, str]] = field(default_factory=list)
    category_ids: list[str] = field(default_factory=list)
    tax_class: str = "standard"
    product_type_id: str | None = None  # its attributes are checked against the type


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateProduct(Command[int]):
    product_id: str
    expected_version: int | None = None
    name: str | None = None
    slug: str | None = None
    description: str | None = None
    status: str | None = None
    attributes: dict[str, Any] | None = None
    media: list[tuple[str, str]] | None = None
    category_ids: list[str] | None = None
    tax_class: str | None = None
    product_type_id: str | None = None  # a type to give it (its attributes, new or kept, are checked against it)
    untyped: bool = False  # take its type away (its attributes stay, unchecked)


@dataclass(frozen=True, slots=True, kw_only=True)
class AddVariant(Command[int]):
    product_id: str
    variant: VariantSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatePriceList(Command[str]):
    name: str
    currency: str
    channel: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceSpec:
    sku: str
    amount: int
    tiers: list[tuple[int, int]] = field(default_factory=list)
    sale_amount: int | None = None
    sale_starts_at: datetime | None = None
    sale_ends_at: datetime | None = None
    # What the client left out ("tiers", "sale"): a stored price holding one is not replaced (the rule
    # would be lost without being asked for; an ended sale may go).
    omitted: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class SetPrices(Command[int]):
    """Replace whole prices: base, tiers and sale as given."""

    price_list_id: str
    prices: list[PriceSpec]


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleSpec:
    amount: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceChange:
    """Some fields of a SKU's price: ``KEEP`` leaves one as it is, ``None`` (sale) or ``[]`` (tiers) clears it."""

    sku: str
    amount: int | Keep = KEEP
    tiers: list[tuple[int, int]] | Keep | None = KEEP
    sale: SaleSpec | Keep | None = KEEP


@dataclass(frozen=True, slots=True, kw_only=True)
class EditPrices(Command[int]):
    """Change some fields of some prices in a list, keeping the others (all or nothing)."""

    price_list_id: str
    changes: list[PriceChange]


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateVariant(Command[int]):
    product_id: str
    sku: str
    weight_grams: int | None = None
    barcode: str | None = None
    requires_online_payment: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOptionValue(Command[int]):
    product_id: str
    option: str
    value: str
