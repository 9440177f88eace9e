"""The ProductTypeRepository contract (``ProductTypeRepositoryContract``) on the in-memory fake and PostgreSQL:
types stored and read back, optimistic saves, what the products of a type hold, and a delete refused while
products use the type. Each test takes codes and ids from ``unique``."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from application.catalog import commands as c
from domain.catalog.attributes import AttributeDefinition, AttributeKind
from domain.catalog.errors import ProductTypeCodeTaken, ProductTypeInUse, ProductTypeNotFound
from domain.catalog.types import ProductType, ProductTypeChanged, TypeUsage
from tests.support.bus import build_bus

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
K = AttributeKind
DEFINITIONS = (
    AttributeDefinition(code="weight_kg", label="Weight", kind=K.NUMBER, unit="kg", required=True, filterable=True),
    AttributeDefinition(code="colours", label="Colours", kind=K.ENUM, allowed=("red", "blue", "green"),
                        multiple=True, filterable=True, facetable=True),
    AttributeDefinition(code="season", label="Season", kind=K.ENUM, allowed=("summer", "winter")),
    AttributeDefinition(code="released", label="Released", kind=K.DATE),
)


class ProductTypeRepositoryContract:
    """What every ProductTypeRepository does alike. A subclass provides ``harness``: a unit of work of its kind."""

    @pytest.fixture
    def harness(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def add(self, harness, unique: str, code: str = "jacket") -> ProductType:
        product_type = ProductType.create(id=f"{code}-{unique}", code=f"{code}-{unique}", name="Jacket",
                                          definitions=DEFINITIONS, now=NOW)
        async with harness.uow()() as tx:
            await tx.product_types.add(product_type)
            await tx.commit()
        return product_type

    async def test_a_type_reads_back_as_it_was_stored_and_its_event_is_in_the_outbox(self, harness, unique) -> None:
        added = await self.add(harness, unique)
        async with harness.uow()() as tx:
            got = await tx.product_types.get(added.id)
            held = await tx.product_types.held(added.id)
            many = await tx.product_types.get_many([added.id, "missing"])
            every = await tx.product_types.all()
        for product_type in (got, held, many[added.id]):
            assert (product_type.code, product_type.name, product_type.definitions, product_type.version) == (
                added.code, "Jacket", DEFINITIONS, 1)
        assert list(many) == [added.id]
        assert added.id in [t.id for t in every]
        assert [m.topic for m in await harness.outbox_for(added.id)] == [ProductTypeChanged.topic]

    async def test_an_unknown_type_is_not_found_and_a_code_is_taken_once(self, harness, unique) -> None:
        await self.add(harness, unique)
        async with harness.uow()() as tx:
            with pytest.raises(ProductTypeNotFound):
                await tx.product_types.get(f"missing-{unique}")
            with pytest.raises(ProductTypeNotFound):
                await tx.product_types.held(f"missing-{unique}")
        again = ProductType.create(id=f"other-{unique}", code=f"jacket-{unique}", name="Again", definitions=(),
                                   now=NOW)
        async with harness.uow()() as tx:
            with pytest.raises(ProductTypeCodeTaken):
                await tx.product_types.add(again)

    async def test_a_changed_type_is_saved_and_read_back_changed(self, harness, unique) -> None:
        added = await self.add(harness, unique)
        fewer = DEFINITIONS[:2]
        async with harness.uow()() as tx:
            product_type = await tx.product_types.get(added.id)
            await tx.product_types.save(product_type)  # unchanged: writes nothing
            product_type.revise(now=NOW, usage=await tx.product_types.usage(added.id), name="Jackets",
                                definitions=fewer)
            await tx.product_types.save(product_type)
            await tx.commit()
        async with harness.uow()() as tx:
            got = await tx.product_types.get(added.id)
        assert (got.name, got.definitions, got.version) == ("Jackets", fewer, 2)
        assert [m.aggregate_version for m in await harness.outbox_for(added.id)] == [1, 2]

    async def test_usage_says_what_the_products_of_the_type_hold(self, harness, unique) -> None:
        added = await self.add(harness, unique)
        bus = build_bus(uow=harness.uow(), clock=_Clock(), ids=harness.ids)
        for n, attributes in enumerate([
            {"weight_kg": 1, "colours": ["red", "blue"], "season": "winter", "released": "2026-01-02"},
            {"weight_kg": 2.5, "colours": ["red"]},
            {"weight_kg": 3},
        ]):
            await bus.handle(c.CreateProduct(name=f"J{n} {unique}", sku=f"J{n}-{unique}", product_type_id=added.id,
                                             attributes=attributes))
        async with harness.uow()() as tx:
            usage = await tx.product_types.usage(added.id)
            products = await tx.product_types.products_of([added.id])
            stored = await tx.products.get(products[0])
        assert usage.products == 3
        assert dict(usage.holding) == {"weight_kg": 3, "colours": 2, "season": 1, "released": 1}
        assert dict(usage.values) == {"colours": frozenset({"red", "blue"}), "season": frozenset({"winter"})}
        assert len(products) == 3
        assert stored.product_type_id == added.id
        assert stored.attributes["released"] == date(2026, 1, 2)
        async with harness.uow()() as tx:
            assert await tx.product_types.usage(f"missing-{unique}") == TypeUsage()

    async def test_a_type_products_use_is_not_removed_and_an_unused_one_is(self, harness, unique) -> None:
        used = await self.add(harness, unique)
        unused = await self.add(harness, unique, code="spare")
        bus = build_bus(uow=harness.uow(), clock=_Clock(), ids=harness.ids)
        await bus.handle(c.CreateProduct(name=f"U {unique}", sku=f"U-{unique}", product_type_id=used.id,
                                         attributes={"weight_kg": 1}))
        async with harness.uow()() as tx:
            product_type = await tx.product_types.get(used.id)
            product_type.version += 1  # as ``delete`` would, without its check: the store refuses too
            with pytest.raises(ProductTypeInUse):
                await tx.product_types.remove(product_type)
        async with harness.uow()() as tx:
            product_type = await tx.product_types.get(unused.id)
            product_type.delete(now=NOW, usage=await tx.product_types.usage(unused.id))
            await tx.product_types.remove(product_type)
            await tx.commit()
        async with harness.uow()() as tx:
            assert list(await tx.product_types.get_many([used.id, unused.id])) == [used.id]
            with pytest.raises(ProductTypeNotFound):
                await tx.product_types.held(unused.id)


class _Clock:
    def now(self) -> datetime:
        return NOW


class TestMemoryProductTypes(ProductTypeRepositoryContract):
    @pytest.fixture
    def harness(self, memory_harness):
        return memory_harness


class TestPostgresProductTypes(ProductTypeRepositoryContract):
    @pytest.fixture
    def harness(self, postgres_harness):
        return postgres_harness
