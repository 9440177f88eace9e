"""`emporium reindex` against the test database."""

from __future__ import annotations

from adapters.postgres.search import PostgresSearchIndex
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import UuidIdGenerator
from application.catalog import commands as c
from application.catalog.projection import rebuild_catalog
from application.search.ports import IndexQuery
from tests.support.categories import add_categories
from tests.support.delivery import bus_for
from tests.support.processes import emporium, service_env


async def test_reindex_shows_progress_and_fills_the_index(database_url, redis_url, engine, unique) -> None:
    bus = bus_for(engine)
    product_id = await bus.handle(c.CreateProduct(name=f"Reindex Kettle {unique}", sku=f"K-{unique}",
                                                  price_amount=2500, currency="EUR"))
    await add_categories(lambda: PostgresUnitOfWork(engine, UuidIdGenerator()), f"kettles-{unique}")
    await bus.handle(c.UpdateProduct(product_id=product_id, category_ids=[f"kettles-{unique}"]))
    await rebuild_catalog(uow=lambda: PostgresUnitOfWork(engine, UuidIdGenerator()))
    result = emporium(service_env(database_url, redis_url, "cli"), "reindex", "--batch", "100")
    assert result.returncode == 0, result.stderr
    assert "indexed [" in result.stdout
    assert "into postgres" in result.stdout
    found = await PostgresSearchIndex(engine).search(IndexQuery(text="kettle", category_id=f"kettles-{unique}"))
    assert [h.id for h in found.hits] == [product_id]
