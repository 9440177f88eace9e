"""Product types through the bus on the in-memory fakes: typed products are checked on create and update and
a refusal changes nothing; a type changes only as its products allow; documents and search follow the type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.catalog import commands as c
from application.catalog import types as pt
from application.catalog.projection import project_catalog_events, project_product
from application.messaging.codec import event_from_builtins
from application.search.documents import build_search_document
from domain.catalog.errors import AttributesRefused, ProductTypeCodeTaken, ProductTypeInUse, ProductTypeNotFound
from domain.catalog.types import ProductTypeChanged
from domain.shared.errors import ConcurrencyConflict
from tests.support.bus import build_bus

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SEASON = pt.DefinitionSpec(code="season", label="Season", kind="enum", allowed_values=["summer", "winter"],
                           filterable=True, facetable=True)
JACKET = [
    pt.DefinitionSpec(code="weight_kg", label="Weight", kind="number", unit="kg", required=True, filterable=True),
    pt.DefinitionSpec(code="waterproof", label="Waterproof", kind="boolean", filterable=True, facetable=True),
    SEASON,
]


@pytest.fixture
def shop():
    db = MemoryDatabase()
    ids = SequentialIds()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    return build_bus(uow=uow, clock=FakeClock(NOW), ids=ids), uow, db


async def jacket(bus, *, sku: str = "STORM-1", **attributes) -> tuple[str, str]:
    type_id = await bus.handle(pt.CreateProductType(code="rain-jacket", name="Rain jacket", attributes=JACKET))
    product_id = await bus.handle(c.CreateProduct(
        name="Storm", sku=sku, price_amount=9900, currency="EUR", product_type_id=type_id,
        attributes=attributes or {"weight_kg": 0.85, "waterproof": True, "season": "winter"}))
    return type_id, product_id


async def product(uow, product_id: str):
    async with uow() as tx:
        return await tx.products.get(product_id)


async def test_the_observed_patch_is_refused_naming_each_attribute_and_changes_nothing(shop) -> None:
    bus, uow, db = shop
    _, product_id = await jacket(bus)
    before, outbox = await product(uow, product_id), len(db.outbox)
    with pytest.raises(AttributesRefused) as caught:
        await bus.handle(c.UpdateProduct(product_id=product_id, name="Renamed",
                                         attributes={"weight_kg": "heavy", "waterproof": "yes", "season": "winter"}))
    assert caught.value.errors == {"weight_kg": "expects a number (in kg), not the text 'heavy'",
                                   "waterproof": "expects true or false, not the text 'yes'"}
    after = await product(uow, product_id)
    assert (after.name, after.attributes, after.version) == (before.name, before.attributes, before.version)
    assert len(db.outbox) == outbox


async def test_a_typed_product_is_checked_on_create_and_nothing_is_written(shop) -> None:
    bus, uow, _ = shop
    type_id = await bus.handle(pt.CreateProductType(code="rain-jacket", name="Rain jacket", attributes=JACKET))
    with pytest.raises(AttributesRefused) as caught:
        await bus.handle(c.CreateProduct(name="Bad", sku="BAD-1", price_amount=100, currency="EUR",
                                         product_type_id=type_id, attributes={"season": "autumn"}))
    assert set(caught.value.errors) == {"weight_kg", "season"}
    async with uow() as tx:
        assert await tx.products.existing_skus(["BAD-1"]) == set()
    with pytest.raises(ProductTypeNotFound):
        await bus.handle(c.CreateProduct(name="Lost", sku="L-1", product_type_id="no-such-type"))


async def test_untyped_products_keep_their_free_attributes_and_can_take_a_type_later(shop) -> None:
    bus, uow, _ = shop
    old = await bus.handle(c.CreateProduct(name="Old", sku="OLD-1", attributes={"weight_kg": 0.85}))
    await bus.handle(c.UpdateProduct(product_id=old, attributes={"weight_kg": "heavy", "anything": "goes"}))
    type_id = await bus.handle(pt.CreateProductType(code="rain-jacket", name="Rain jacket", attributes=JACKET))
    with pytest.raises(AttributesRefused, match="anything"):
        await bus.handle(c.UpdateProduct(product_id=old, product_type_id=type_id))
    await bus.handle(c.UpdateProduct(product_id=old, product_type_id=type_id, attributes={"weight_kg": 2}))
    assert (await product(uow, old)).product_type_id == type_id
    await bus.handle(c.UpdateProduct(product_id=old, untyped=True))
    assert (await product(uow, old)).product_type_id is None


async def test_a_type_is_read_listed_and_its_code_is_unique(shop) -> None:
    bus, _, _ = shop
    type_id, _ = await jacket(bus)
    view = await bus.handle(pt.GetProductType(product_type_id=type_id))
    assert (view.code, view.products, [a.code for a in view.attributes]) == (
        "rain-jacket", 1, ["weight_kg", "waterproof", "season"])
    assert view.attributes[0].unit == "kg"
    assert [t.id for t in await bus.handle(pt.ListProductTypes())] == [type_id]
    with pytest.raises(ProductTypeCodeTaken):
        await bus.handle(pt.CreateProductType(code="rain-jacket", name="Again"))
    with pytest.raises(ProductTypeNotFound):
        await bus.handle(pt.GetProductType(product_type_id="missing"))


async def test_allowed_values_grow_freely_but_one_in_use_cannot_go(shop) -> None:
    bus, _, _ = shop
    type_id, _ = await jacket(bus)
    autumn = pt.DefinitionSpec(code="season", label="Season", kind="enum", filterable=True, facetable=True,
                               allowed_values=["summer", "winter", "autumn"])
    version = await bus.handle(pt.UpdateProductType(product_type_id=type_id, attributes=[*JACKET[:2], autumn]))
    assert version == 2
    no_winter = pt.DefinitionSpec(code="season", label="Season", kind="enum", allowed_values=["summer", "autumn"])
    with pytest.raises(ProductTypeInUse) as caught:
        await bus.handle(pt.UpdateProductType(product_type_id=type_id, attributes=[*JACKET[:2], no_winter]))
    assert caught.value.errors == {"season": "values still used by products of this type: winter"}
    with pytest.raises(ConcurrencyConflict):
        await bus.handle(pt.UpdateProductType(product_type_id=type_id, expected_version=1, name="Jackets"))
    assert (await bus.handle(pt.GetProductType(product_type_id=type_id))).version == 2


async def test_a_required_attribute_is_added_only_once_every_product_has_a_value(shop) -> None:
    bus, _, _ = shop
    type_id, product_id = await jacket(bus)
    hood = pt.DefinitionSpec(code="hood", label="Hood", kind="boolean", required=True)
    with pytest.raises(ProductTypeInUse, match="hood: cannot be required yet"):
        await bus.handle(pt.UpdateProductType(product_type_id=type_id, attributes=[*JACKET, hood]))
    optional = pt.DefinitionSpec(code="hood", label="Hood", kind="boolean")
    await bus.handle(pt.UpdateProductType(product_type_id=type_id, attributes=[*JACKET, optional]))
    await bus.handle(c.UpdateProduct(product_id=product_id, attributes={"weight_kg": 1, "hood": False}))
    await bus.handle(pt.UpdateProductType(product_type_id=type_id, attributes=[*JACKET, hood]))
    with pytest.raises(AttributesRefused, match="hood: required"):
        await bus.handle(c.UpdateProduct(product_id=product_id, attributes={"weight_kg": 1}))


async def test_a_type_in_use_cannot_be_deleted(shop) -> None:
    bus, _, _ = shop
    type_id, product_id = await jacket(bus)
    with pytest.raises(ProductTypeInUse, match="1 products use it"):
        await bus.handle(pt.DeleteProductType(product_type_id=type_id))
    await bus.handle(c.UpdateProduct(product_id=product_id, untyped=True))
    await bus.handle(pt.DeleteProductType(product_type_id=type_id))
    with pytest.raises(ProductTypeNotFound):
        await bus.handle(pt.GetProductType(product_type_id=type_id))


async def test_the_document_shows_labels_and_units_and_follows_a_type_change(shop) -> None:
    bus, uow, db = shop
    type_id, product_id = await jacket(bus)
    async with uow() as tx:
        await project_product(product_id, tx)
        await tx.commit()
    async with uow() as tx:
        document = await tx.catalog_view.product_by_id(product_id)
    assert document.product_type.code == "rain-jacket"
    weight = document.attribute_details[0]
    assert (weight.code, weight.label, weight.value, weight.unit, weight.filterable) == (
        "weight_kg", "Weight", 0.85, "kg", True)
    indexed = build_search_document(document, {})
    assert (indexed.filterable, indexed.facetable) == (["season", "waterproof", "weight_kg"], ["season", "waterproof"])

    relabelled = [pt.DefinitionSpec(code="weight_kg", label="Weight (packed)", kind="number", unit="kg",
                                    required=True, filterable=True, facetable=True), *JACKET[1:]]
    await bus.handle(pt.UpdateProductType(product_type_id=type_id, attributes=relabelled))
    [message] = [m for m in db.outbox if m.topic == ProductTypeChanged.topic and m.aggregate_version == 2]
    async with uow() as tx:
        await project_catalog_events([event_from_builtins(message.topic, message.payload)], tx)
        await tx.commit()
    async with uow() as tx:
        document = await tx.catalog_view.product_by_id(product_id)
    assert (document.attribute_details[0].label, document.attribute_details[0].facetable) == ("Weight (packed)", True)
    assert "weight_kg" in build_search_document(document, {}).facetable
