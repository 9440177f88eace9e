"""Shipping zones and quotes at their thresholds; the category tree and collections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.catalog.categories import (
    TREE_ID,
    Category,
    CategoryInUse,
    CategoryNotFound,
    CategoryTree,
    CategoryTreeChanged,
)
from domain.catalog.collections import MAX_PRODUCTS, Collection, CollectionChanged, CollectionDeleted
from domain.catalog.product import CatalogError
from domain.shared.errors import Conflict
from domain.shipping.rates import (
    SEEDED_METHODS,
    Method,
    MethodNotOffered,
    Option,
    RateKind,
    ShippingTable,
    UnsupportedDestination,
    Zone,
)

T0 = datetime(2026, 7, 1, tzinfo=UTC)

FLAT = Method(id="flat", name="Flat", zone_id="z", currency="EUR", kind=RateKind.FLAT, amount=490, free_over=5000)
BANDED = Method(id="banded", name="Banded", zone_id="z", currency="EUR", kind=RateKind.WEIGHT,
                bands=((1000, 990), (5000, 1490)))


def test_a_zone_covers_its_countries_and_when_it_names_regions_only_those() -> None:
    eu = Zone(id="eu", name="EU", countries=frozenset({"DE", "FR"}))
    west = Zone(id="w", name="West", countries=frozenset({"US"}), regions=frozenset({"US-CA", "US-WA"}))
    assert eu.covers("DE", "")
    assert eu.covers("FR", "IDF")
    assert not eu.covers("US", "CA")
    assert west.covers("US", "CA")
    assert not west.covers("US", "NY")
    assert not west.covers("CA", "US")


def test_a_flat_rate_is_free_from_its_threshold_on() -> None:
    assert FLAT.quote(goods=4999, weight_grams=100_000) == 490
    assert FLAT.quote(goods=5000, weight_grams=0) == 0
    assert Method(id="m", name="m", zone_id="z", currency="EUR", kind=RateKind.FLAT, amount=300).quote(
        goods=10**9, weight_grams=0) == 300


def test_a_weight_band_includes_its_upper_limit_and_a_heavier_parcel_is_not_carried() -> None:
    assert BANDED.quote(goods=0, weight_grams=1000) == 990
    assert BANDED.quote(goods=0, weight_grams=1001) == 1490
    assert BANDED.quote(goods=0, weight_grams=5000) == 1490
    assert BANDED.quote(goods=0, weight_grams=5001) is None


def test_options_are_the_carrying_methods_of_the_zone_and_currency_cheapest_first() -> None:
    table = ShippingTable()
    options = table.options(country="DE", region="", currency="EUR", goods=1000, weight_grams=2000)
    assert [(o.method.id, o.amount) for o in options] == [("eu-standard", 490), ("eu-express", 1490)]
    free = table.options(country="DE", region="", currency="EUR", goods=5000, weight_grams=2000)
    assert [(o.method.id, o.amount) for o in free] == [("eu-standard", 0), ("eu-express", 1490)]
    heavy = table.options(country="DE", region="", currency="EUR", goods=1000, weight_grams=20001)
    assert [o.method.id for o in heavy] == ["eu-standard"]
    in_pounds = table.options(country="GB", region="", currency="GBP", goods=1000, weight_grams=0)
    assert [(o.method.id, o.amount) for o in in_pounds] == [("uk-standard", 450)]
    assert table.options(country="GB", region="", currency="JPY", goods=1000, weight_grams=0) == []


def test_equal_prices_are_ordered_by_method_id() -> None:
    a = Method(id="a", name="A", zone_id="z", currency="EUR", kind=RateKind.FLAT, amount=100)
    b = Method(id="b", name="B", zone_id="z", currency="EUR", kind=RateKind.FLAT, amount=100)
    table = ShippingTable(zones=(Zone(id="z", name="Z", countries=frozenset({"DE"})),), methods=(b, a))
    assert [o.method.id for o in table.options(country="DE", region="", currency="EUR", goods=0,
                                               weight_grams=0)] == ["a", "b"]


def test_an_address_outside_every_zone_is_refused_by_country() -> None:
    with pytest.raises(UnsupportedDestination, match=r"^we do not ship to JP$"):
        ShippingTable().options(country="JP", region="", currency="JPY", goods=0, weight_grams=0)


def test_choosing_returns_the_option_and_refuses_one_not_offered() -> None:
    table = ShippingTable()
    chosen = table.choose("us-ground", country="US", region="CA", currency="USD", goods=7500, weight_grams=100)
    assert chosen == Option(method=next(m for m in SEEDED_METHODS if m.id == "us-ground"), amount=0)
    with pytest.raises(MethodNotOffered, match=r"^shipping method 'us-ground' is not offered for this address"):
        table.choose("us-ground", country="US", region="CA", currency="EUR", goods=0, weight_grams=0)


# -- categories ---------------------------------------------------------------------------------------


def tree() -> CategoryTree:
    categories = CategoryTree()
    categories.add(id="shoes", name="Shoes", slug="shoes", parent_id=None, position=None, now=T0)
    categories.add(id="bags", name="Bags", slug="bags", parent_id=None, position=None, now=T0)
    categories.add(id="boots", name="Boots", slug="boots", parent_id="shoes", position=None, now=T0)
    categories.add(id="heels", name="Heels", slug="heels", parent_id="shoes", position=None, now=T0)
    categories.pull_events()
    return categories


def positions(categories: CategoryTree, parent: str | None) -> list[tuple[str, int]]:
    return [(c.id, c.position) for c in categories.children(parent)]


def test_adding_places_a_category_last_or_at_a_clamped_position_and_records_the_tree() -> None:
    categories = tree()
    categories.add(id="sandals", name=" Sandals ", slug="sandals", parent_id="shoes", position=0, now=T0)
    categories.add(id="clogs", name="Clogs", slug="clogs", parent_id="shoes", position=99, now=T0)
    categories.add(id="mules", name="Mules", slug="mules", parent_id="shoes", position=-5, now=T0)
    assert positions(categories, "shoes") == [("mules", 0), ("sandals", 1), ("boots", 2), ("heels", 3),
                                              ("clogs", 4)]
    assert categories.get("sandals") == Category(id="sandals", name="Sandals", slug="sandals", parent_id="shoes",
                                                 position=1)
    assert categories.version == 7
    event = categories.pull_events()[-1]
    assert isinstance(event, CategoryTreeChanged)
    assert (event.aggregate_id, event.aggregate_version, event.occurred_at) == (TREE_ID, 7, T0)
    assert [c.id for c in event.categories] == ["shoes", "bags", "mules", "sandals", "boots", "heels", "clogs"]
    assert CategoryTreeChanged.topic == "catalog.category_tree_changed.v1"


def test_a_category_needs_a_name_a_free_slug_and_an_existing_parent() -> None:
    categories = tree()
    with pytest.raises(CatalogError, match=r"^a category needs a name$"):
        categories.add(id="x", name="  ", slug="x", parent_id=None, position=None, now=T0)
    with pytest.raises(Conflict, match=r"^a category is already at 'boots'$"):
        categories.add(id="x", name="X", slug="boots", parent_id=None, position=None, now=T0)
    with pytest.raises(CategoryNotFound, match=r"^no category nope$"):
        categories.add(id="x", name="X", slug="x", parent_id="nope", position=None, now=T0)
    assert (categories.version, "x" in categories.nodes) == (4, False)


def test_moving_renumbers_both_the_old_and_the_new_siblings() -> None:
    categories = tree()
    categories.move("boots", parent_id="bags", position=None, now=T0)
    assert positions(categories, "shoes") == [("heels", 0)]
    assert positions(categories, "bags") == [("boots", 0)]
    categories.move("heels", parent_id=None, position=1, now=T0)
    assert positions(categories, None) == [("shoes", 0), ("heels", 1), ("bags", 2)]
    assert categories.subtree("bags") == ["bags", "boots"]
    assert categories.version == 6


def test_moving_within_the_same_parent_reorders() -> None:
    categories = tree()
    categories.move("heels", parent_id="shoes", position=0, now=T0)
    assert positions(categories, "shoes") == [("heels", 0), ("boots", 1)]


def test_a_category_cannot_move_below_itself() -> None:
    categories = tree()
    for target in ("shoes", "boots"):
        with pytest.raises(CatalogError, match=r"^a category cannot move below itself$"):
            categories.move("shoes", parent_id=target, position=None, now=T0)
    with pytest.raises(CategoryNotFound):
        categories.move("shoes", parent_id="nope", position=None, now=T0)
    assert categories.get("shoes").parent_id is None
    assert categories.version == 4


def test_renaming_trims_and_a_blank_name_is_refused() -> None:
    categories = tree()
    categories.rename("bags", name=" Handbags ", now=T0)
    assert categories.get("bags").name == "Handbags"
    with pytest.raises(CatalogError, match=r"^a category needs a name$"):
        categories.rename("bags", name=" ", now=T0)
    assert categories.version == 5


def changed_by(categories: CategoryTree) -> list[tuple[str, ...]]:
    return [e.changed for e in categories.pull_events() if isinstance(e, CategoryTreeChanged)]


def test_a_move_to_another_parent_changes_the_whole_subtree_a_reorder_nothing() -> None:
    categories = tree()
    categories.add(id="ankle", name="Ankle", slug="ankle", parent_id="boots", position=None, now=T0)
    categories.move("boots", parent_id="bags", position=None, now=T0)
    categories.move("heels", parent_id="shoes", position=0, now=T0)
    assert changed_by(categories) == [(), ("boots", "ankle"), ()]


def test_renaming_may_give_a_new_slug_and_changes_the_category_and_all_below_it() -> None:
    categories = tree()
    categories.rename("shoes", name="Footwear", slug="footwear", now=T0)
    categories.rename("shoes", name="Footwear!", slug="footwear", now=T0)  # its own slug is no conflict
    categories.rename("bags", name="Handbags", now=T0)
    assert categories.get("shoes") == Category(id="shoes", name="Footwear!", slug="footwear", parent_id=None,
                                               position=0)
    assert categories.get("bags").slug == "bags"
    assert changed_by(categories) == [("shoes", "boots", "heels")] * 2 + [("bags",)]
    with pytest.raises(Conflict, match=r"^a category is already at 'boots'$"):
        categories.rename("heels", name="Heels", slug="boots", now=T0)
    with pytest.raises(CatalogError, match=r"^invalid slug 'Not A Slug'$"):
        categories.rename("heels", name="Heels", slug="Not A Slug", now=T0)
    with pytest.raises(CategoryNotFound, match=r"^no category nope$"):
        categories.rename("nope", name="Nope", now=T0)
    assert (categories.get("heels").slug, categories.version) == ("heels", 7)


def test_a_category_without_sub_categories_is_removed_and_its_siblings_close_up() -> None:
    categories = tree()
    categories.remove("boots", now=T0)
    assert positions(categories, "shoes") == [("heels", 0)]
    assert "boots" not in categories.nodes
    assert categories.version == 5
    event = categories.pull_events()[-1]
    assert isinstance(event, CategoryTreeChanged)
    assert (event.changed, [c.id for c in event.categories]) == (("boots",), ["shoes", "bags", "heels"])
    with pytest.raises(CategoryInUse, match=r"^category shoes has sub-categories: move or delete them first$"):
        categories.remove("shoes", now=T0)
    with pytest.raises(CategoryNotFound, match=r"^no category boots$"):
        categories.remove("boots", now=T0)
    assert ("shoes" in categories.nodes, categories.version) == (True, 5)
    categories.remove("heels", now=T0)
    categories.remove("shoes", now=T0)  # no sub-categories left
    assert positions(categories, None) == [("bags", 0)]


def test_a_path_runs_from_the_root_down_to_the_category() -> None:
    categories = tree()
    categories.add(id="ankle", name="Ankle", slug="ankle", parent_id="boots", position=None, now=T0)
    assert [c.id for c in categories.path("ankle")] == ["shoes", "boots", "ankle"]
    assert [c.id for c in categories.path("bags")] == ["bags"]
    assert categories.path("nope") == []
    looped = CategoryTree([Category(id="a", name="A", slug="a", parent_id="b", position=0),
                           Category(id="b", name="B", slug="b", parent_id="a", position=0)])
    assert [c.id for c in looped.path("a")] == ["b", "a"]  # a damaged tree never loops forever


def test_the_subtree_holds_the_category_and_everything_below_it() -> None:
    categories = tree()
    categories.add(id="ankle", name="Ankle", slug="ankle", parent_id="boots", position=None, now=T0)
    assert categories.subtree("shoes") == ["shoes", "boots", "ankle", "heels"]
    assert CategoryTree([Category(id="a", name="A", slug="a", parent_id=None, position=0)], version=3).version == 3


# -- collections --------------------------------------------------------------------------------------


def test_a_collection_is_created_named_and_recorded() -> None:
    collection = Collection.create(id="col-1", name=" Summer edit ", slug="summer-edit", now=T0)
    assert (collection.name, collection.slug, collection.product_ids, collection.version) == (
        "Summer edit", "summer-edit", [], 1)
    assert collection.pull_events() == [CollectionChanged(aggregate_id="col-1", aggregate_version=1, occurred_at=T0,
                                                          name="Summer edit", slug="summer-edit", product_ids=())]
    assert CollectionChanged.topic == "catalog.collection_changed.v1"
    with pytest.raises(CatalogError, match=r"^a collection needs a name$"):
        Collection.create(id="col-2", name=" ", slug="x", now=T0)


def test_arranging_sets_the_products_in_order_once_each_up_to_the_limit() -> None:
    collection = Collection(id="col-1", name="Edit", slug="edit", version=2)
    collection.arrange(["p2", "p1"], now=T0)
    assert (collection.product_ids, collection.version) == (["p2", "p1"], 3)
    (event,) = collection.pull_events()
    assert isinstance(event, CollectionChanged)
    assert event.product_ids == ("p2", "p1")
    with pytest.raises(CatalogError, match=r"^a product appears twice in the collection$"):
        collection.arrange(["p1", "p1"], now=T0)
    collection.arrange([f"p{i}" for i in range(MAX_PRODUCTS)], now=T0)
    with pytest.raises(CatalogError, match=r"^a collection holds at most 1000 products$"):
        collection.arrange([f"p{i}" for i in range(MAX_PRODUCTS + 1)], now=T0)
    assert len(collection.product_ids) == MAX_PRODUCTS


def test_a_collection_is_renamed_and_a_new_slug_names_the_old_one() -> None:
    collection = Collection(id="col-1", name="Edit", slug="edit", product_ids=["p1"], version=2)
    collection.rename(name=" Summer edit ", now=T0)
    collection.rename(name="Summer", slug="summer", now=T0)
    collection.rename(name="Summer", slug="summer", now=T0)
    assert (collection.name, collection.slug, collection.version) == ("Summer", "summer", 5)
    assert collection.pull_events() == [
        CollectionChanged(aggregate_id="col-1", aggregate_version=3, occurred_at=T0, name="Summer edit", slug="edit",
                          product_ids=("p1",), previous_slug=None),
        CollectionChanged(aggregate_id="col-1", aggregate_version=4, occurred_at=T0, name="Summer", slug="summer",
                          product_ids=("p1",), previous_slug="edit"),
        CollectionChanged(aggregate_id="col-1", aggregate_version=5, occurred_at=T0, name="Summer", slug="summer",
                          product_ids=("p1",), previous_slug=None),
    ]
    with pytest.raises(CatalogError, match=r"^a collection needs a name$"):
        collection.rename(name=" ", slug="other", now=T0)
    with pytest.raises(CatalogError, match=r"^invalid slug 'No Slug'$"):
        collection.rename(name="Other", slug="No Slug", now=T0)
    assert (collection.name, collection.slug, collection.version) == ("Summer", "summer", 5)


def test_a_deleted_collection_records_its_slug() -> None:
    collection = Collection(id="col-1", name="Edit", slug="edit", version=2)
    collection.delete(now=T0)
    assert collection.version == 3
    assert collection.pull_events() == [CollectionDeleted(aggregate_id="col-1", aggregate_version=3, occurred_at=T0,
                                                          slug="edit")]
    assert CollectionDeleted.topic == "catalog.collection_deleted.v1"


def test_a_regional_method_is_chosen_in_its_region_only() -> None:
    west = Zone(id="w", name="West", countries=frozenset({"US"}), regions=frozenset({"US-CA"}))
    ground = Method(id="ground", name="Ground", zone_id="w", currency="USD", kind=RateKind.FLAT, amount=500)
    table = ShippingTable(zones=(west,), methods=(ground,))
    assert table.choose("ground", country="US", region="CA", currency="USD", goods=0, weight_grams=0).amount == 500
    with pytest.raises(UnsupportedDestination):
        table.choose("ground", country="US", region="NY", currency="USD", goods=0, weight_grams=0)


def test_tree_and_collection_events_carry_the_moment_of_the_change() -> None:
    later = datetime(2026, 7, 2, tzinfo=UTC)
    categories = tree()
    categories.move("boots", parent_id="bags", position=None, now=later)
    categories.rename("bags", name="Handbags", now=later + timedelta(hours=1))
    assert [e.occurred_at for e in categories.pull_events()] == [later, later + timedelta(hours=1)]
    assert categories.id == TREE_ID == "categories"
    collection = Collection(id="col-1", name="Edit", slug="edit")
    collection.arrange(["p1"], now=later)
    assert [e.occurred_at for e in collection.pull_events()] == [later]
