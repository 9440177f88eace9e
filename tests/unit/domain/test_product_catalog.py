"""Products: names, slugs, options, variants and attributes, each rule refused on the wrong side of it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.catalog.product import (
    CatalogError,
    Component,
    DuplicateSku,
    Media,
    Option,
    Product,
    ProductNotFound,
    ProductSaved,
    ProductSnapshot,
    ProductStatus,
    Variant,
    check_slug,
    slugify,
)
from domain.tax.rates import UnknownTaxClass

T0 = datetime(2026, 8, 1, tzinfo=UTC)
SIZE = Option(name="size", values=("S", "M"))
COLOUR = Option(name="colour", values=("red", "blue"))


def tee(**more: object) -> Product:
    product = Product.create(id="p1", name="Tee", now=T0, options=(SIZE,),
                             variants=(Variant(sku="TEE-S", option_values={"size": "S"}),), **more)  # type: ignore[arg-type]
    product.pull_events()
    return product


def test_creating_trims_the_name_derives_the_slug_and_records_a_snapshot() -> None:
    product = Product.create(id="p1", name="  Trail Runner 2 ", now=T0, description="Fast", options=(SIZE,),
                             variants=(Variant(sku="TR-S", option_values={"size": "S"}),),
                             attributes={"material": "mesh", "tags": ("run", "trail")}, category_ids=("shoes",),
                             media=(Media(url="https://cdn/x.jpg", alt="x"),))
    assert (product.name, product.slug, product.status, product.version) == (
        "Trail Runner 2", "trail-runner-2", ProductStatus.DRAFT, 1)
    assert product.pull_events() == [ProductSaved(
        aggregate_id="p1", aggregate_version=1, occurred_at=T0,
        product=ProductSnapshot(name="Trail Runner 2", slug="trail-runner-2", description="Fast", status="draft",
                                options=(SIZE,), variants=(Variant(sku="TR-S", option_values={"size": "S"}),),
                                attributes={"material": "mesh", "tags": ("run", "trail")}, category_ids=("shoes",),
                                media=(Media(url="https://cdn/x.jpg", alt="x"),)))]
    assert ProductSaved.topic == "catalog.product_saved.v1"


def test_a_given_slug_is_kept() -> None:
    assert Product.create(id="p", name="Tee", slug="the-tee", now=T0).slug == "the-tee"


def test_a_product_needs_a_name() -> None:
    with pytest.raises(CatalogError, match=r"^a product needs a name$"):
        Product.create(id="p", name="  ", now=T0)


def test_an_active_product_needs_a_variant() -> None:
    with pytest.raises(CatalogError, match=r"^a product needs at least one variant to be sold$"):
        Product.create(id="p", name="Tee", now=T0, status=ProductStatus.ACTIVE)
    active = Product.create(id="p", name="Tee", now=T0, status=ProductStatus.ACTIVE,
                            variants=(Variant(sku="T"),))
    assert active.status is ProductStatus.ACTIVE


@pytest.mark.parametrize(("text", "slug"), [("Trail Runner 2", "trail-runner-2"), ("  Ça va?! ", "a-va"),
                                            ("A--B", "a-b")])
def test_slugify_keeps_lower_case_ascii_words(text: str, slug: str) -> None:
    assert slugify(text) == slug


@pytest.mark.parametrize("slug", ["", "Tee", "tee-", "-tee", "a--b", "t e", "x" * 201])
def test_an_invalid_slug_is_refused_and_quoted(slug: str) -> None:
    with pytest.raises(CatalogError, match=r"^invalid slug "):
        check_slug(slug)


def test_a_slug_of_two_hundred_characters_is_fine() -> None:
    check_slug("x" * 200)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((SIZE, Option(name="size", values=("L",))), "^option names must be unique$"),
        ((Option(name=" ", values=("L",)),), "^option ' ' needs a name and at least one value$"),
        ((Option(name="size", values=()),), "^option 'size' needs a name and at least one value$"),
        ((Option(name="size", values=("S", "S")),), "^option 'size' repeats a value$"),
    ],
)
def test_options_have_unique_names_and_values(options: tuple[Option, ...], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        Product.create(id="p", name="Tee", now=T0, options=options)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"Colour": "red"}, "^invalid attribute name 'Colour'$"),
        ({"1st": "x"}, "invalid attribute name"),
        ({"a" * 41: "x"}, "invalid attribute name"),
        ({"tags": ("a", 1)}, "^attribute 'tags': a multi-value attribute holds text values$"),
    ],
)
def test_attribute_names_and_multi_values_are_checked(attributes: dict[str, object], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        Product.create(id="p", name="Tee", now=T0, attributes=attributes)  # type: ignore[arg-type]


def test_typed_attributes_are_accepted() -> None:
    attributes = {"a" * 40: "x", "launched": date(2026, 1, 1), "weight": 1.5, "count": 2, "new": True,
                  "tags": ("a", "b")}
    assert Product.create(id="p", name="Tee", now=T0, attributes=attributes).attributes == attributes  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("variant", "error", "message"),
    [
        (Variant(sku="-BAD", option_values={"size": "M"}), CatalogError, "^invalid SKU '-BAD'$"),
        (Variant(sku="X" * 65, option_values={"size": "M"}), CatalogError, "invalid SKU"),
        (Variant(sku="TEE-S", option_values={"size": "M"}), DuplicateSku,
         "^SKU TEE-S is already a variant of this product$"),
        (Variant(sku="TEE-M"), CatalogError,
         r"^variant TEE-M must pick exactly one value per option \(missing \['size'\], unknown \[\]\)$"),
        (Variant(sku="TEE-M", option_values={"size": "M", "fit": "slim"}), CatalogError,
         r"\(missing \[\], unknown \['fit'\]\)$"),
        (Variant(sku="TEE-L", option_values={"size": "L"}), CatalogError, "^'L' is not a value of 'size'$"),
        (Variant(sku="TEE-S2", option_values={"size": "S"}), CatalogError,
         r"^another variant already has \{'size': 'S'\}$"),
        (Variant(sku="TEE-M", option_values={"size": "M"}, weight_grams=-1), CatalogError,
         "^a weight cannot be negative$"),
        (Variant(sku="TEE-M", option_values={"size": "M"}, components=(Component(sku="SOCK", quantity=0),)),
         CatalogError, "^bundle TEE-M: component SOCK is invalid$"),
        (Variant(sku="TEE-M", option_values={"size": "M"}, components=(Component(sku="TEE-M", quantity=1),)),
         CatalogError, "^bundle TEE-M: component TEE-M is invalid$"),
        (Variant(sku="TEE-M", option_values={"size": "M"}, weight_grams=1,
                 components=(Component(sku="SOCK", quantity=1),)),
         CatalogError, "^bundle TEE-M weighs what its components weigh: give it no weight of its own$"),
    ],
)
def test_a_variant_breaking_a_rule_is_refused(variant: Variant, error: type[Exception], message: str) -> None:
    product = tee()
    with pytest.raises(error, match=message):
        product.add_variant(variant, now=T0)
    assert [v.sku for v in product.variants] == ["TEE-S"]
    assert product.version == 1


def test_a_valid_variant_is_added_and_saved() -> None:
    product = tee()
    bundle = Variant(sku="TEE-M", option_values={"size": "M"}, weight_grams=0,
                     components=(Component(sku="SOCK", quantity=1),))
    product.add_variant(bundle, now=T0)
    assert product.variants[-1] == bundle
    assert bundle.is_bundle
    assert not product.variants[0].is_bundle
    assert product.version == 2
    (event,) = product.pull_events()
    assert isinstance(event, ProductSaved)
    assert event.product.variants == product.variants


def test_without_options_variants_differ_by_sku_alone() -> None:
    product = Product.create(id="p", name="Mug", now=T0, variants=(Variant(sku="MUG-1"),))
    product.add_variant(Variant(sku="MUG-2"), now=T0)
    assert [v.sku for v in product.variants] == ["MUG-1", "MUG-2"]


def test_a_new_option_value_is_offered_once() -> None:
    product = Product.create(id="p", name="Tee", now=T0, options=(COLOUR, SIZE))
    product.add_option_value("size", "L", now=T0)
    assert product.options == (COLOUR, Option(name="size", values=("S", "M", "L")))
    assert product.version == 2
    with pytest.raises(CatalogError, match=r"^'size' already offers 'L'$"):
        product.add_option_value("size", "L", now=T0)
    with pytest.raises(CatalogError, match=r"^an option value cannot be empty$"):
        product.add_option_value("size", " ", now=T0)
    with pytest.raises(CatalogError, match=r"^the product has no option 'fit'$"):
        product.add_option_value("fit", "slim", now=T0)
    product.add_option_value("colour", "green", now=T0)
    assert product.options[0] == Option(name="colour", values=("red", "blue", "green"))
    assert product.version == 3


def test_updating_a_variant_changes_only_what_is_given() -> None:
    product = tee()
    product.update_variant("TEE-S", weight_grams=250, now=T0)
    assert product.variant("TEE-S") == Variant(sku="TEE-S", option_values={"size": "S"}, weight_grams=250)
    product.update_variant("TEE-S", barcode="4006381333931", now=T0)
    assert (product.variant("TEE-S").weight_grams, product.variant("TEE-S").barcode) == (250, "4006381333931")
    assert product.version == 3
    with pytest.raises(CatalogError, match=r"negative"):
        product.update_variant("TEE-S", weight_grams=-1, now=T0)
    with pytest.raises(ProductNotFound, match=r"^product p1 has no variant NOPE$"):
        product.update_variant("NOPE", weight_grams=1, now=T0)


def test_revising_changes_the_given_fields_only() -> None:
    product = tee(description="old", category_ids=("a",))
    product.revise(now=T0, name=" New ", description="new")
    assert (product.name, product.slug, product.description, product.category_ids) == ("New", "tee", "new", ("a",))
    product.revise(now=T0, slug="new-tee", attributes={"fit": "slim"}, category_ids=("b",),
                   media=(Media(url="u"),))
    assert (product.slug, product.attributes, product.category_ids, product.media) == (
        "new-tee", {"fit": "slim"}, ("b",), (Media(url="u", alt=""),))
    assert product.version == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": " "}, "^a product needs a name$"),
        ({"name": "Renamed", "slug": "Bad Slug"}, "^invalid slug 'Bad Slug'$"),
        ({"name": "Renamed", "attributes": {"Bad": "x"}}, "^invalid attribute name 'Bad'$"),
    ],
)
def test_a_refused_revision_changes_nothing(change: dict[str, object], message: str) -> None:
    product = tee(description="old")
    with pytest.raises(CatalogError, match=message):
        product.revise(now=T0, **change)  # type: ignore[arg-type]
    assert (product.name, product.slug, product.description, product.attributes, product.version) == (
        "Tee", "tee", "old", {}, 1)


def test_status_changes_are_saved_once_and_selling_needs_a_variant() -> None:
    product = tee()
    product.change_status(ProductStatus.ACTIVE, now=T0)
    assert (product.status, product.version) == (ProductStatus.ACTIVE, 2)
    product.change_status(ProductStatus.ACTIVE, now=T0)
    assert product.version == 2
    product.change_status(ProductStatus.ARCHIVED, now=T0)
    assert (product.status, product.version) == (ProductStatus.ARCHIVED, 3)
    empty = Product.create(id="p2", name="Empty", now=T0)
    with pytest.raises(CatalogError, match=r"at least one variant"):
        empty.change_status(ProductStatus.ACTIVE, now=T0)
    empty.change_status(ProductStatus.ARCHIVED, now=T0)
    assert empty.status is ProductStatus.ARCHIVED


def test_a_product_loaded_without_details_is_an_empty_draft() -> None:
    product = Product(id="p", name="Tee", slug="tee")
    assert (product.description, product.status, product.options, product.variants, product.attributes,
            product.category_ids, product.media, product.version, product.events) == (
        "", ProductStatus.DRAFT, (), (), {}, (), (), 0, [])


def test_every_product_change_is_dated_and_touches_only_its_variant() -> None:
    moments = [T0.replace(hour=h) for h in range(1, 6)]
    product = Product.create(id="p1", name="Tee", now=T0, options=(SIZE,),
                             variants=(Variant(sku="TEE-S", option_values={"size": "S"}, barcode="111"),))
    product.pull_events()
    product.add_variant(Variant(sku="TEE-M", option_values={"size": "M"}), now=moments[0])
    product.add_option_value("size", "L", now=moments[1])
    product.update_variant("TEE-S", weight_grams=300, now=moments[2])
    product.revise(now=moments[3], description="soft")
    product.change_status(ProductStatus.ACTIVE, now=moments[4])
    assert [e.occurred_at for e in product.pull_events()] == moments
    assert product.variant("TEE-S") == Variant(sku="TEE-S", option_values={"size": "S"}, weight_grams=300,
                                               barcode="111")
    assert product.variant("TEE-M") == Variant(sku="TEE-M", option_values={"size": "M"})


def test_a_product_created_without_a_description_has_an_empty_one() -> None:
    assert Product.create(id="p", name="Tee", now=T0).description == ""


def test_a_product_is_taxed_at_the_standard_rate_unless_it_names_another_class_and_its_snapshot_says_which() -> None:
    assert Product.create(id="p", name="Tee", now=T0).tax_class == "standard"
    book = Product.create(id="b", name="Book", now=T0, tax_class="reduced")
    assert [e.product.tax_class for e in book.pull_events()] == ["reduced"]  # type: ignore[attr-defined]
    book.revise(now=T0, tax_class="super-reduced")
    assert (book.tax_class, book.version) == ("super-reduced", 2)
    assert [e.product.tax_class for e in book.pull_events()] == ["super-reduced"]  # type: ignore[attr-defined]
    with pytest.raises(UnknownTaxClass, match=r"^unknown tax class 'food'"):
        book.revise(now=T0, name="Cookbook", tax_class="food")
    assert (book.name, book.tax_class, book.version) == ("Book", "super-reduced", 2)  # all or nothing
    with pytest.raises(UnknownTaxClass):
        Product.create(id="x", name="X", now=T0, tax_class="Reduced")
