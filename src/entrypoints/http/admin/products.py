"""Products, variants and price lists for merchandisers. Every change is a command on the bus."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, patch, post, put
from litestar.params import JSONBody, PathParameter
from msgspec import UNSET, Meta, UnsetType

from application.catalog import commands as c
from domain.catalog.pricing import KEEP
from domain.staff.roles import Role
from entrypoints.http.auth import roles, staff_guard
from entrypoints.http.decoding import MULTILINE
from entrypoints.http.dependencies import Bus

Sku = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", max_length=64)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
MinorUnits = Annotated[int, Meta(ge=0, le=10**12)]
Slug = Annotated[str, Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=200)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=20_000), MULTILINE]  # keeps its line breaks
Status = Annotated[str, Meta(pattern=r"^(draft|active|archived)$")]
AttributeName = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
# domain/tax/rates.py TAX_CLASSES; what each means in each country is in docs/architecture.md ("Tax").
TaxClass = Annotated[str, Meta(pattern=r"^(standard|reduced|reduced-2|super-reduced|zero|exempt)$")]
Attribute = str | int | float | bool | list[str]
Id = Annotated[str, PathParameter(max_length=64)]
MERCHANDISER = roles(Role.MERCHANDISER)


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class OptionIn(Strict):
    name: Name
    values: Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(min_length=1, max_length=100)]


class ComponentIn(Strict):
    sku: Sku
    quantity: Annotated[int, Meta(ge=1, le=1000)]


class VariantIn(Strict):
    sku: Sku
    option_values: dict[str, str] = {}
    weight_grams: Annotated[int, Meta(ge=0, le=10**7)] = 0
    barcode: Annotated[str, Meta(max_length=64)] | None = None
    components: list[ComponentIn] = []
    requires_online_payment: bool = False  # pay-later (manual) payment is refused for carts holding it


class MediaIn(Strict):
    url: Annotated[str, Meta(pattern=r"^https?://", max_length=2000)]
    alt: Annotated[str, Meta(max_length=500)] = ""


class ProductCreate(Strict):
    """The simple form — ``sku``, ``price``, ``currency`` — or options and variants (a draft)."""

    name: Name
    sku: Sku | None = None
    price: MinorUnits | None = None
    currency: Currency | None = None
    slug: Slug | None = None
    description: Text = ""
    status: Status | None = None
    options: list[OptionIn] = []
    variants: Annotated[list[VariantIn], Meta(max_length=500)] = []
    attributes: dict[AttributeName, Attribute] = {}
    media: list[MediaIn] = []
    category_ids: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=50)] = []
    tax_class: TaxClass = "standard"
    product_type_id: Annotated[str, Meta(max_length=64)] | None = None  # its attributes are checked against it


class ProductUpdate(Strict):
    expected_version: int | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    attributes: dict[AttributeName, Attribute] | UnsetType = UNSET
    media: list[MediaIn] | UnsetType = UNSET
    category_ids: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=50)] | UnsetType = UNSET
    tax_class: TaxClass | UnsetType = UNSET
    product_type_id: Annotated[str, Meta(max_length=64)] | UnsetType | None = UNSET  # null: untyped again


class VariantUpdate(Strict):
    weight_grams: Annotated[int, Meta(ge=0, le=10**7)] | UnsetType = UNSET
    barcode: Annotated[str, Meta(max_length=64)] | UnsetType = UNSET
    requires_online_payment: bool | UnsetType = UNSET


class OptionValueIn(Strict):
    value: Annotated[str, Meta(min_length=1, max_length=100)]


class TierIn(Strict):
    min_quantity: Annotated[int, Meta(ge=2)]
    amount: MinorUnits


class SaleIn(Strict):
    amount: MinorUnits
    starts_at: datetime
    ends_at: datetime


class PriceIn(Strict):
    """A whole price (PUT). Leaving ``tiers`` or ``sale`` out where the stored price has them is refused (409
    ``price-rules-would-be-lost``); ``[]`` and ``null`` remove them."""

    sku: Sku
    amount: MinorUnits
    tiers: list[TierIn] | UnsetType = UNSET
    sale: SaleIn | UnsetType | None = UNSET


class PricesIn(Strict):
    prices: Annotated[list[PriceIn], Meta(min_length=1, max_length=1000)]


class PriceEditIn(Strict):
    """Some fields of a price (PATCH): what is left out stays; ``null`` (or ``[]`` for tiers) removes it."""

    sku: Sku
    amount: MinorUnits | UnsetType = UNSET
    tiers: list[TierIn] | UnsetType | None = UNSET
    sale: SaleIn | UnsetType | None = UNSET


class PriceEditsIn(Strict):
    prices: Annotated[list[PriceEditIn], Meta(min_length=1, max_length=1000)]


class PriceListIn(Strict):
    name: Name
    currency: Currency
    channel: Annotated[str, Meta(pattern=r"^[a-z0-9-]{1,64}$")] | None = None


class Created(msgspec.Struct, kw_only=True):
    id: str


class Saved(msgspec.Struct, kw_only=True):
    id: str
    version: int


def _variant(v: VariantIn) -> c.VariantSpec:
    return c.VariantSpec(sku=v.sku, option_values=v.option_values, weight_grams=v.weight_grams, barcode=v.barcode,
                         components=[(x.sku, x.quantity) for x in v.components],
                         requires_online_payment=v.requires_online_payment)


def _attributes(values: dict[str, Attribute]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def _unset(value: Any) -> Any:
    return None if value is UNSET else value


def _price_spec(p: PriceIn) -> c.PriceSpec:
    sale = None if isinstance(p.sale, UnsetType) else p.sale
    return c.PriceSpec(
        sku=p.sku, amount=p.amount, tiers=[] if isinstance(p.tiers, UnsetType) else [
            (t.min_quantity, t.amount) for t in p.tiers],
        sale_amount=sale.amount if sale else None, sale_starts_at=sale.starts_at if sale else None,
        sale_ends_at=sale.ends_at if sale else None,
        omitted=frozenset(name for name in ("tiers", "sale") if getattr(p, name) is UNSET),
    )


def _price_change(p: PriceEditIn) -> c.PriceChange:
    return c.PriceChange(
        sku=p.sku, amount=KEEP if isinstance(p.amount, UnsetType) else p.amount,
        tiers=KEEP if isinstance(p.tiers, UnsetType) else [(t.min_quantity, t.amount) for t in p.tiers or ()],
        sale=KEEP if isinstance(p.sale, UnsetType) else None if p.sale is None else c.SaleSpec(
            amount=p.sale.amount, starts_at=p.sale.starts_at, ends_at=p.sale.ends_at),
    )


class AdminProductController(Controller):
    path = "/admin"
    tags = ["admin: catalog"]
    guards = [staff_guard]

    @post("/products", operation_id="admin_create_product", opt=MERCHANDISER, status_code=201)
    async def create(self, bus: Bus, data: JSONBody[ProductCreate]) -> Created:
        product_id = await bus.handle(
            c.CreateProduct(
                name=data.name, sku=data.sku, price_amount=data.price, currency=data.currency, slug=data.slug,
                description=data.description, status=data.status,
                options=[(o.name, o.values) for o in data.options], variants=[_variant(v) for v in data.variants],
                attributes=_attributes(data.attributes), media=[(m.url, m.alt) for m in data.media],
                category_ids=data.category_ids, tax_class=data.tax_class, product_type_id=data.product_type_id,
            )
        )
        return Created(id=product_id)

    @patch("/products/{product_id:str}", operation_id="admin_update_product", opt=MERCHANDISER)
    async def update(
        self, bus: Bus, product_id: Id, data: JSONBody[ProductUpdate]
    ) -> Saved:
        version = await bus.handle(
            c.UpdateProduct(
                product_id=product_id, expected_version=_unset(data.expected_version), name=_unset(data.name),
                slug=_unset(data.slug), description=_unset(data.description), status=_unset(data.status),
                attributes=None if data.attributes is UNSET else _attributes(data.attributes),
                media=None if data.media is UNSET else [(m.url, m.alt) for m in data.media],
                category_ids=_unset(data.category_ids), tax_class=_unset(data.tax_class),
                product_type_id=_unset(data.product_type_id), untyped=data.product_type_id is None,
            )
        )
        return Saved(id=product_id, version=version)

    @post("/products/{product_id:str}/variants", operation_id="admin_add_variant", opt=MERCHANDISER, status_code=201)
    async def add_variant(self, bus: Bus, product_id: Id, data: JSONBody[VariantIn]) -> Saved:
        version = await bus.handle(
            c.AddVariant(product_id=product_id, variant=_variant(data))
        )
        return Saved(id=product_id, version=version)

    @patch("/products/{product_id:str}/variants/{sku:str}", operation_id="admin_update_variant", opt=MERCHANDISER)
    async def update_variant(
        self, bus: Bus, product_id: Id, sku: Annotated[str, PathParameter(max_length=64)],
        data: JSONBody[VariantUpdate],
    ) -> Saved:
        version = await bus.handle(
            c.UpdateVariant(product_id=product_id, sku=sku, weight_grams=_unset(data.weight_grams),
                            barcode=_unset(data.barcode), requires_online_payment=_unset(data.requires_online_payment))
        )
        return Saved(id=product_id, version=version)

    @post("/products/{product_id:str}/options/{option:str}/values", operation_id="admin_add_option_value",
          opt=MERCHANDISER, status_code=201)
    async def add_option_value(
        self, bus: Bus, product_id: Id, option: Annotated[str, PathParameter(max_length=100)],
        data: JSONBody[OptionValueIn],
    ) -> Saved:
        version = await bus.handle(
            c.AddOptionValue(product_id=product_id, option=option, value=data.value)
        )
        return Saved(id=product_id, version=version)

    @post("/price-lists", operation_id="admin_create_price_list", opt=MERCHANDISER, status_code=201)
    async def create_price_list(self, bus: Bus, data: JSONBody[PriceListIn]) -> Created:
        price_list_id = await bus.handle(
            c.CreatePriceList(name=data.name, currency=data.currency, channel=data.channel)
        )
        return Created(id=price_list_id)

    @put("/price-lists/{price_list_id:str}/prices", operation_id="admin_set_prices", opt=MERCHANDISER)
    async def set_prices(self, bus: Bus, price_list_id: Id, data: JSONBody[PricesIn]) -> Saved:
        """Replace whole prices; one whose tiers or running sale the body leaves out is refused (409)."""
        version = await bus.handle(
            c.SetPrices(price_list_id=price_list_id, prices=[_price_spec(p) for p in data.prices])
        )
        return Saved(id=price_list_id, version=version)

    @patch("/price-lists/{price_list_id:str}/prices", operation_id="admin_edit_prices", opt=MERCHANDISER)
    async def edit_prices(self, bus: Bus, price_list_id: Id, data: JSONBody[PriceEditsIn]) -> Saved:
        """Change the fields named of each price and keep the others (a new amount keeps tiers and sale)."""
        version = await bus.handle(
            c.EditPrices(price_list_id=price_list_id, changes=[_price_change(p) for p in data.prices])
        )
        return Saved(id=price_list_id, version=version)
