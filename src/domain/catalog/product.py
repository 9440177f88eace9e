"""The Product aggregate: options, variants (one value per option, a unique SKU), typed attributes (checked
against its product type when it has one), status, media and bundle components. Every change records one
``ProductSaved`` snapshot event."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from domain.catalog.attributes import AttributeValue as AttributeValue
from domain.catalog.attributes import check_attribute_names
from domain.catalog.errors import CatalogError as CatalogError
from domain.catalog.errors import DuplicateSku as DuplicateSku
from domain.catalog.errors import DuplicateSlug as DuplicateSlug
from domain.catalog.errors import ProductNotFound as ProductNotFound
from domain.catalog.types import ProductType
from domain.shared.events import Aggregate, DomainEvent
from domain.tax.rates import STANDARD, check_tax_class

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

class ProductStatus(Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """A dimension a product varies in (``size``) and its values in display order."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """One part of a bundle: inventory reserves components, not the bundle."""

    sku: str
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    sku: str
    option_values: dict[str, str] = field(default_factory=dict)
    weight_grams: int = 0
    barcode: str | None = None
    components: tuple[Component, ...] = ()
    requires_online_payment: bool = False  # pay-later (invoice, cash on delivery) cannot buy it

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    url: str
    alt: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductSnapshot:
    """Everything a reader needs about a product at one version."""

    name: str
    slug: str
    description: str
    status: str
    options: tuple[Option, ...]
    variants: tuple[Variant, ...]
    attributes: dict[str, object]  # typed values travel as JSON: dates as ISO text, sets as lists
    category_ids: tuple[str, ...]
    media: tuple[Media, ...]
    tax_class: str = STANDARD  # standard, reduced, reduced-2, super-reduced, zero or exempt (domain/tax/rates.py)
    product_type_id: str | None = None  # none: untyped (wave-1 products), its attributes checked by name only


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductSaved(DomainEvent):
    topic = "catalog.product_saved.v1"
    product: ProductSnapshot


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by dashes: ``"Trail Runner 2"`` → ``"trail-runner-2"``."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def check_slug(slug: str) -> None:
    if not _SLUG.match(slug) or len(slug) > 200:
        raise CatalogError(f"invalid slug {slug!r}")


def _check_options(options: tuple[Option, ...]) -> None:
    names = [o.name for o in options]
    if len(set(names)) != len(names):
        raise CatalogError("option names must be unique")
    for option in options:
        if not option.name.strip() or not option.values:
            raise CatalogError(f"option {option.name!r} needs a name and at least one value")
        if len(set(option.values)) != len(option.values):
            raise CatalogError(f"option {option.name!r} repeats a value")


class Product(Aggregate):
    def __init__(
        self, *, id: str, name: str, slug: str, description: str = "", status: ProductStatus = ProductStatus.DRAFT,
        options: tuple[Option, ...] = (), variants: tuple[Variant, ...] = (),
        attributes: dict[str, AttributeValue] | None = None, category_ids: tuple[str, ...] = (),
        media: tuple[Media, ...] = (), version: int = 0, tax_class: str = STANDARD, product_type_id: str | None = None,
    ) -> None:
        self.id = id
        self.name = name
        self.slug = slug
        self.description = description
        self.status = status
        self.options = options
        self.variants = variants
        self.attributes = dict(attributes or {})
        self.category_ids = category_ids
        self.media = media
        self.tax_class = tax_class
        self.product_type_id = product_type_id
        self.version = version
        self.events = []

    @classmethod
    def create(
        cls, *, id: str, name: str, now: datetime, slug: str | None = None, description: str = "",
        status: ProductStatus = ProductStatus.DRAFT, options: tuple[Option, ...] = (),
        variants: tuple[Variant, ...] = (), attributes: dict[str, AttributeValue] | None = None,
        category_ids: tuple[str, ...] = (), media: tuple[Media, ...] = (), tax_class: str = STANDARD,
        product_type: ProductType | None = None,
    ) -> Product:
        """``product_type``: the type its attributes are checked against (and kept as), if it has one."""
        name = name.strip()
        if not name:
            raise CatalogError("a product needs a name")
        if product_type is not None:
            attributes = product_type.conform(attributes or {})
        product = cls(id=id, name=name, slug=slug or slugify(name), description=description, status=status,
                      options=options, attributes=attributes, category_ids=category_ids, media=media,
                      tax_class=check_tax_class(tax_class),
                      product_type_id=None if product_type is None else product_type.id)
        check_slug(product.slug)
        _check_options(options)
        check_attribute_names(product.attributes)
        for variant in variants:
            product._check_variant(variant, ignore_sku=None)
            product.variants = (*product.variants, variant)
        if status is ProductStatus.ACTIVE and not product.variants:
            raise CatalogError("a product needs at least one variant to be sold")
        product._saved(now)
        return product

    def snapshot(self) -> ProductSnapshot:
        return ProductSnapshot(
            name=self.name, slug=self.slug, description=self.description, status=self.status.value,
            options=self.options, variants=self.variants, attributes=dict(self.attributes),
            category_ids=self.category_ids, media=self.media, tax_class=self.tax_class,
            product_type_id=self.product_type_id,
        )

    def _saved(self, now: datetime) -> None:
        self.version += 1
        self._record(
            ProductSaved(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now,
                         product=self.snapshot())
        )

    def _check_variant(self, variant: Variant, *, ignore_sku: str | None) -> None:
        if not _SKU.match(variant.sku):
            raise CatalogError(f"invalid SKU {variant.sku!r}")
        others = [v for v in self.variants if v.sku != ignore_sku]
        if any(v.sku == variant.sku for v in others):
            raise DuplicateSku(f"SKU {variant.sku} is already a variant of this product")
        expected = {o.name for o in self.options}
        if set(variant.option_values) != expected:
            missing, extra = expected - set(variant.option_values), set(variant.option_values) - expected
            raise CatalogError(
                f"variant {variant.sku} must pick exactly one value per option"
                f" (missing {sorted(missing)}, unknown {sorted(extra)})"
            )
        for option in self.options:
            if variant.option_values[option.name] not in option.values:
                raise CatalogError(f"{variant.option_values[option.name]!r} is not a value of {option.name!r}")
        if self.options and any(v.option_values == variant.option_values for v in others):
            raise CatalogError(f"another variant already has {variant.option_values}")
        if variant.weight_grams < 0:
            raise CatalogError("a weight cannot be negative")
        if variant.components and variant.weight_grams:
            raise CatalogError(f"bundle {variant.sku} weighs what its components weigh: give it no weight of its own")
        for component in variant.components:
            if component.quantity <= 0 or component.sku == variant.sku:
                raise CatalogError(f"bundle {variant.sku}: component {component.sku} is invalid")

    def add_variant(self, variant: Variant, *, now: datetime) -> None:
        self._check_variant(variant, ignore_sku=None)
        self.variants = (*self.variants, variant)
        self._saved(now)

    def add_option_value(self, option_name: str, value: str, *, now: datetime) -> None:
        """Offer a new value (a new size); existing variants keep theirs."""
        if not value.strip():
            raise CatalogError("an option value cannot be empty")
        for n, option in enumerate(self.options):
            if option.name == option_name:
                if value in option.values:
                    raise CatalogError(f"{option_name!r} already offers {value!r}")
                changed = Option(name=option.name, values=(*option.values, value))
                self.options = (*self.options[:n], changed, *self.options[n + 1 :])
                self._saved(now)
                return
        raise CatalogError(f"the product has no option {option_name!r}")

    def update_variant(self, sku: str, *, now: datetime, weight_grams: int | None = None,
                       barcode: str | None = None, requires_online_payment: bool | None = None) -> None:
        current = self.variant(sku)
        changed = replace(
            current,
            weight_grams=current.weight_grams if weight_grams is None else weight_grams,
            barcode=current.barcode if barcode is None else barcode,
            requires_online_payment=(current.requires_online_payment if requires_online_payment is None
                                     else requires_online_payment),
        )
        self._check_variant(changed, ignore_sku=sku)
        self.variants = tuple(changed if v.sku == sku else v for v in self.variants)
        self._saved(now)

    def variant(self, sku: str) -> Variant:
        for variant in self.variants:
            if variant.sku == sku:
                return variant
        raise ProductNotFound(f"product {self.id} has no variant {sku}")

    def revise(
        self, *, now: datetime, name: str | None = None, slug: str | None = None, description: str | None = None,
        attributes: dict[str, AttributeValue] | None = None, category_ids: tuple[str, ...] | None = None,
        media: tuple[Media, ...] | None = None, tax_class: str | None = None,
        product_type: ProductType | None = None, untyped: bool = False,
    ) -> None:
        """Change descriptive fields, the tax class and the product type; anything left ``None`` stays as it
        is. ``product_type``: the type it has after the change (a new one, or its own when its attributes
        change: they are checked against it); ``untyped`` takes its type away. All or nothing: every value
        is checked before any is set."""
        if name is not None and not name.strip():
            raise CatalogError("a product needs a name")
        if tax_class is not None:
            check_tax_class(tax_class)
        if slug is not None:
            check_slug(slug)
        type_id = None if untyped else product_type.id if product_type is not None else self.product_type_id
        if type_id is not None and (attributes is not None or type_id != self.product_type_id):
            if product_type is None:
                raise CatalogError(f"the attributes of product {self.id} are checked against its type {type_id}")
            attributes = product_type.conform(self.attributes if attributes is None else attributes)
        if attributes is not None:
            check_attribute_names(attributes)
        if name is not None:
            self.name = name.strip()
        if slug is not None:
            self.slug = slug
        if description is not None:
            self.description = description
        if attributes is not None:
            self.attributes = dict(attributes)
        if category_ids is not None:
            self.category_ids = category_ids
        if media is not None:
            self.media = media
        if tax_class is not None:
            self.tax_class = tax_class
        self.product_type_id = type_id
        self._saved(now)

    def change_status(self, status: ProductStatus, *, now: datetime) -> None:
        if status is ProductStatus.ACTIVE and not self.variants:
            raise CatalogError("a product needs at least one variant to be sold")
        if status is not self.status:
            self.status = status
            self._saved(now)
