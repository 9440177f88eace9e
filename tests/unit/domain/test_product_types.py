"""Product types: each attribute kind accepts its values and refuses others, naming the attribute and why;
a type changes only in ways its products still conform to."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.catalog.attributes import AttributeDefinition, AttributeKind
from domain.catalog.errors import AttributesRefused, CatalogError, ProductTypeInUse
from domain.catalog.product import Product
from domain.catalog.types import ProductType, ProductTypeChanged, ProductTypeDeleted, TypeUsage

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
K = AttributeKind


def jacket_type() -> ProductType:
    definitions = (
        AttributeDefinition(code="weight_kg", label="Weight", kind=K.NUMBER, unit="kg", required=True,
                            filterable=True),
        AttributeDefinition(code="waterproof", label="Waterproof", kind=K.BOOLEAN, filterable=True, facetable=True),
        AttributeDefinition(code="season", label="Season", kind=K.ENUM, allowed=("spring", "summer", "winter"),
                            filterable=True, facetable=True),
        AttributeDefinition(code="colours", label="Colours", kind=K.ENUM, allowed=("red", "blue", "green"),
                            multiple=True),
        AttributeDefinition(code="fabric", label="Fabric", kind=K.TEXT),
        AttributeDefinition(code="released", label="Released", kind=K.DATE),
    )
    return ProductType.create(id="t1", code="rain-jacket", name="Rain jacket", definitions=definitions, now=NOW)


def refused(values: dict[str, object]) -> dict[str, str]:
    with pytest.raises(AttributesRefused) as caught:
        jacket_type().conform(values)
    return caught.value.errors


def test_each_kind_keeps_the_values_it_accepts() -> None:
    kept = jacket_type().conform({"weight_kg": 0.85, "waterproof": True, "season": "winter",
                                  "colours": ["red", "blue"], "fabric": "nylon", "released": "2026-03-01"})
    assert kept == {"weight_kg": 0.85, "waterproof": True, "season": "winter", "colours": ("red", "blue"),
                    "fabric": "nylon", "released": date(2026, 3, 1)}
    assert jacket_type().conform({"weight_kg": 1})["weight_kg"] == 1


def test_a_number_with_a_unit_refuses_text_and_says_its_unit() -> None:
    assert refused({"weight_kg": "heavy"}) == {"weight_kg": "expects a number (in kg), not the text 'heavy'"}
    assert "not the boolean true" in refused({"weight_kg": True})["weight_kg"]
    assert "inf" in refused({"weight_kg": float("inf")})["weight_kg"]


def test_a_boolean_is_true_or_false_never_yes() -> None:
    assert refused({"weight_kg": 1, "waterproof": "yes"}) == {
        "waterproof": "expects true or false, not the text 'yes'"}
    assert "not the number 1" in refused({"weight_kg": 1, "waterproof": 1})["waterproof"]


def test_an_enum_takes_its_allowed_values_only() -> None:
    assert refused({"weight_kg": 1, "season": "autumn"}) == {
        "season": "'autumn' is not allowed: expects one of spring, summer, winter"}
    assert "not allowed" in refused({"weight_kg": 1, "colours": ["red", "pink"]})["colours"]
    assert refused({"weight_kg": 1, "colours": ["red", "red"]}) == {"colours": "repeats a value"}
    assert "expects a list" in refused({"weight_kg": 1, "colours": "red"})["colours"]


def test_a_date_is_a_calendar_day_in_iso_form() -> None:
    assert "a date (YYYY-MM-DD)" in refused({"weight_kg": 1, "released": "01/03/2026"})["released"]
    assert refused({"weight_kg": 1, "released": "2026-02-30"}) == {
        "released": "'2026-02-30' is not a day of the calendar"}
    assert "a date" in refused({"weight_kg": 1, "released": 20260301})["released"]


def test_text_is_not_blank() -> None:
    assert "text of 1 to" in refused({"weight_kg": 1, "fabric": "  "})["fabric"]
    assert "not the number 3" in refused({"weight_kg": 1, "fabric": 3})["fabric"]


def test_a_required_attribute_must_be_given_and_an_undefined_one_is_refused() -> None:
    assert refused({"brand": "acme"}) == {
        "brand": "product type 'rain-jacket' defines no attribute 'brand'",
        "weight_kg": "required by product type 'rain-jacket'"}


def test_every_refused_attribute_is_named_at_once() -> None:
    errors = refused({"weight_kg": "heavy", "waterproof": "yes"})
    assert sorted(errors) == ["waterproof", "weight_kg"]


@pytest.mark.parametrize("definition", [
    AttributeDefinition(code="Weight", label="W", kind=K.NUMBER),
    AttributeDefinition(code="w", label=" ", kind=K.NUMBER),
    AttributeDefinition(code="w", label="W", kind=K.TEXT, unit="kg"),
    AttributeDefinition(code="w", label="W", kind=K.ENUM),
    AttributeDefinition(code="w", label="W", kind=K.TEXT, allowed=("a",)),
    AttributeDefinition(code="w", label="W", kind=K.ENUM, allowed=("a", "a")),
    AttributeDefinition(code="w", label="W", kind=K.BOOLEAN, multiple=True),
    AttributeDefinition(code="w", label="W", kind=K.BOOLEAN, facetable=True),
])
def test_a_definition_that_cannot_be_kept_is_refused(definition: AttributeDefinition) -> None:
    with pytest.raises(CatalogError):
        ProductType.create(id="t", code="t", name="T", definitions=(definition,), now=NOW)


def test_a_type_needs_a_code_a_name_and_distinct_attribute_codes() -> None:
    one = AttributeDefinition(code="a", label="A", kind=K.TEXT)
    for code, name, definitions in [("Bad Code", "T", ()), ("t", " ", ()), ("t", "T", (one, one))]:
        with pytest.raises(CatalogError):
            ProductType.create(id="t", code=code, name=name, definitions=definitions, now=NOW)


def test_a_typed_product_is_checked_on_create_and_on_revise_and_changes_nothing_when_refused() -> None:
    jackets = jacket_type()
    product = Product.create(id="p", name="Storm", now=NOW, product_type=jackets,
                             attributes={"weight_kg": 0.85, "waterproof": True})
    assert product.product_type_id == "t1"
    with pytest.raises(AttributesRefused):
        product.revise(now=NOW, name="Storm 2", attributes={"weight_kg": "heavy", "waterproof": "yes"},
                       product_type=jackets)
    assert (product.name, product.attributes, product.version) == ("Storm", {"weight_kg": 0.85, "waterproof": True}, 1)
    with pytest.raises(CatalogError, match="checked against its type"):
        product.revise(now=NOW, attributes={"weight_kg": 2})  # the type not given: refused, never unchecked
    product.revise(now=NOW, attributes={"weight_kg": 2, "released": "2026-01-02"}, product_type=jackets)
    assert product.attributes == {"weight_kg": 2, "released": date(2026, 1, 2)}
    assert product.snapshot().product_type_id == "t1"


def test_an_untyped_product_keeps_its_free_attributes_and_takes_a_type_only_if_they_conform() -> None:
    product = Product.create(id="p", name="Old", now=NOW, attributes={"weight_kg": "heavy"})
    assert product.product_type_id is None
    with pytest.raises(AttributesRefused):
        product.revise(now=NOW, product_type=jacket_type())
    product.revise(now=NOW, product_type=jacket_type(), attributes={"weight_kg": 3})
    assert product.product_type_id == "t1"
    product.revise(now=NOW, untyped=True, attributes={"anything": "goes"})
    assert (product.product_type_id, product.attributes) == (None, {"anything": "goes"})


def test_a_change_existing_products_would_not_conform_to_is_refused_naming_each_attribute() -> None:
    jackets = jacket_type()
    usage = TypeUsage(products=3, holding={"weight_kg": 3, "season": 2, "fabric": 1},
                      values={"season": frozenset({"winter", "summer"})})
    changed = (
        AttributeDefinition(code="weight_kg", label="Weight", kind=K.NUMBER, unit="g", required=True),
        AttributeDefinition(code="season", label="Season", kind=K.ENUM, allowed=("spring", "winter")),
        AttributeDefinition(code="fabric", label="Fabric", kind=K.TEXT, required=True),
        AttributeDefinition(code="hood", label="Hood", kind=K.BOOLEAN, required=True),
    )
    with pytest.raises(ProductTypeInUse) as caught:
        jackets.revise(now=NOW, usage=usage, definitions=changed)
    assert caught.value.errors == {
        "weight_kg": "3 products hold values in kg: its unit cannot change",
        "season": "values still used by products of this type: summer",
        "fabric": "cannot be required yet: 2 products of this type have no value",
        "hood": "cannot be required yet: 3 products of this type have no value "
                "(add it optional, give them values, then require it)",
        # the attributes left out of the list are removed: those no product holds go quietly
    }
    assert (jackets.version, jackets.definitions[0].unit) == (1, "kg")


def test_adding_allowed_values_and_optional_attributes_is_always_fine() -> None:
    jackets = jacket_type()
    usage = TypeUsage(products=5, holding={"weight_kg": 5, "season": 5}, values={"season": frozenset({"winter"})})
    autumn = AttributeDefinition(code="season", label="Season", kind=K.ENUM, allowed=("winter", "autumn"),
                                 filterable=True, facetable=True)
    definitions = (*(autumn if d.code == "season" else d for d in jackets.definitions),
                   AttributeDefinition(code="hood", label="Hood", kind=K.BOOLEAN))
    jackets.revise(now=NOW, usage=usage, definitions=definitions, name="Rain jackets")
    assert (jackets.version, jackets.name) == (2, "Rain jackets")
    assert [e.topic for e in jackets.pull_events()] == [ProductTypeChanged.topic] * 2


def test_an_attribute_products_hold_cannot_be_removed_or_change_kind() -> None:
    jackets = jacket_type()
    usage = TypeUsage(products=2, holding={"weight_kg": 2, "fabric": 1})
    kept = tuple(d for d in jackets.definitions if d.code != "fabric")
    with pytest.raises(ProductTypeInUse, match="fabric: 1 products hold a value"):
        jackets.revise(now=NOW, usage=usage, definitions=kept)
    retyped = tuple(AttributeDefinition(code="weight_kg", label="Weight", kind=K.TEXT, required=True)
                    if d.code == "weight_kg" else d for d in jackets.definitions)
    with pytest.raises(ProductTypeInUse, match="its kind cannot change"):
        jackets.revise(now=NOW, usage=usage, definitions=retyped)
    jackets.revise(now=NOW, usage=TypeUsage(), definitions=retyped)  # no products: anything goes
    assert jackets.definition("weight_kg") == retyped[0]


def test_a_type_in_use_cannot_be_deleted() -> None:
    jackets = jacket_type()
    with pytest.raises(ProductTypeInUse, match="2 products use it"):
        jackets.delete(now=NOW, usage=TypeUsage(products=2))
    jackets.delete(now=NOW, usage=TypeUsage())
    assert jackets.pull_events()[-1].topic == ProductTypeDeleted.topic
