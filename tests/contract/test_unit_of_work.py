"""The UnitOfWork contract (``UnitOfWorkContract``) on the in-memory fake and on PostgreSQL: all or nothing,
events in the outbox with the change, idempotent consumers, optimistic saves (each repository remembers the
version it loaded). Then what only the PostgreSQL one does: writes held back until the commit."""

from __future__ import annotations

import pytest

from adapters.memory.clock import FakeClock
from application.catalog.commands import CreateProduct
from application.catalog.handlers import create_product
from application.messaging.retry import retry_on_conflict
from application.ports.errors import NotLoaded
from domain.catalog.product import DuplicateSku, DuplicateSlug, ProductSaved
from domain.shared.errors import ConcurrencyConflict
from domain.shared.money import Money
from tests.support.orders import new_order
from tests.support.versioned import KINDS, NOW, RACED, Versioned


async def seeded(harness, kind: Versioned, unique: str) -> str:
    async with harness.uow()() as tx:
        key = await kind.seed(tx, unique)
        await tx.commit()
    return key


class UnitOfWorkContract:
    """What every UnitOfWork does alike. A subclass provides ``harness``: units of work of its kind, with a
    look at their outbox."""

    @pytest.fixture
    def harness(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_a_created_product_and_its_event_commit_together(self, harness, unique) -> None:
        clock = FakeClock()
        product_id = await create_product(
            CreateProduct(name=f"Shoe {unique}", sku=f"SKU-{unique}", price_amount=4999, currency="EUR"),
            uow=harness.uow(), clock=clock, ids=harness.ids,
        )
        async with harness.uow()() as tx:
            product = await tx.products.get(product_id)
            [eur] = [
                p for p in await tx.price_lists.for_skus([f"SKU-{unique}"]) if p.currency == "EUR" and p.channel is None
            ]
        assert [v.sku for v in product.variants] == [f"SKU-{unique}"]
        assert Money(eur.prices[f"SKU-{unique}"].amount, "EUR") == Money(4999, "EUR")
        messages = await harness.outbox_for(product_id)
        assert [m.topic for m in messages] == [ProductSaved.topic]
        assert messages[0].payload["product"]["variants"][0]["sku"] == f"SKU-{unique}"
        assert messages[0].aggregate_version == 1

    async def test_the_products_name_which_skus_are_bundles(self, harness, unique) -> None:
        from domain.catalog.product import Component, Product, Variant

        part, kit = Variant(sku=f"PART-{unique}"), Variant(sku=f"KIT-{unique}",
                                                           components=(Component(sku=f"PART-{unique}", quantity=2),))
        async with harness.uow()() as tx:
            await tx.products.add(Product.create(id=harness.ids.new_id(), name=f"Kit {unique}",
                                                 variants=(part, kit), now=FakeClock().now()))
            await tx.commit()
        async with harness.uow()() as tx:
            assert await tx.products.bundles_among([part.sku, kit.sku, f"NONE-{unique}"]) == {kit.sku}
            assert await tx.products.bundles_among([]) == set()

    async def test_leaving_without_commit_writes_nothing(self, harness, unique) -> None:
        from domain.catalog.product import Product, Variant

        product = Product.create(
            id=harness.ids.new_id(), name=f"Ghost {unique}", variants=(Variant(sku=f"G-{unique}"),),
            now=FakeClock().now(),
        )
        with pytest.raises(RuntimeError):
            async with harness.uow()() as tx:
                await tx.products.add(product)
                raise RuntimeError("crash before commit")
        assert await harness.outbox_for(product.id) == []
        from domain.catalog.product import ProductNotFound

        async with harness.uow()() as tx:
            with pytest.raises(ProductNotFound):
                await tx.products.get(product.id)

    async def test_a_variant_that_requires_online_payment_is_stored_and_changed_as_such(self, harness, unique) -> None:
        from domain.catalog.product import Product, Variant

        now = FakeClock().now()
        online, any_way = f"ON-{unique}", f"ANY-{unique}"
        product = Product.create(id=harness.ids.new_id(), name=f"Drop {unique}", now=now,
                                 variants=(Variant(sku=online, requires_online_payment=True), Variant(sku=any_way)))
        async with harness.uow()() as tx:
            await tx.products.add(product)
            await tx.commit()
        async with harness.uow()() as tx:
            loaded = await tx.products.get(product.id)
            assert [v.requires_online_payment for v in loaded.variants] == [True, False]
            loaded.update_variant(online, requires_online_payment=False, now=now)
            loaded.update_variant(any_way, requires_online_payment=True, now=now)
            await tx.products.save(loaded)
            await tx.commit()
        async with harness.uow()() as tx:
            [again] = await tx.products.get_many([product.id])
        assert [(v.sku, v.requires_online_payment) for v in again.variants] == [(online, False), (any_way, True)]

    async def test_duplicate_sku_and_slug_are_conflicts_that_write_nothing(self, harness, unique) -> None:
        deps = {"uow": harness.uow(), "clock": FakeClock(), "ids": harness.ids}
        await create_product(
            CreateProduct(name=f"A {unique}", sku=f"D-{unique}", price_amount=1, currency="EUR"), **deps
        )
        with pytest.raises(DuplicateSku):
            await create_product(
                CreateProduct(name=f"B {unique}", sku=f"D-{unique}", price_amount=1, currency="EUR"), **deps
            )
        with pytest.raises(DuplicateSlug):
            await create_product(
                CreateProduct(name=f"A {unique}", sku=f"E-{unique}", price_amount=1, currency="EUR"), **deps
            )

    async def test_a_consumer_marks_an_event_processed_once(self, harness, unique) -> None:
        async with harness.uow()() as tx:
            assert await tx.processed.mark("projection", f"evt-{unique}") is True
            await tx.commit()
        async with harness.uow()() as tx:
            assert await tx.processed.mark("projection", f"evt-{unique}") is False
            assert await tx.processed.mark("other-consumer", f"evt-{unique}") is True

    # Optimistic saves: the aggregate bumps its version, the repository remembers the one it loaded.

    @pytest.mark.parametrize("kind", KINDS, ids=str)
    async def test_a_save_is_remembered_so_the_next_change_in_the_same_unit_of_work_saves_too(
        self, harness, unique, kind: Versioned,
    ) -> None:
        key = await seeded(harness, kind, unique)
        async with harness.uow()() as tx:
            aggregate = await kind.load(tx, key)
            for n in (1, 2):
                kind.change(aggregate, n)
                await kind.save(tx, aggregate)
            await tx.commit()
            kind.change(aggregate, 3)  # and after a commit, in the same unit of work
            await kind.save(tx, aggregate)
            await tx.commit()
        async with harness.uow()() as tx:
            stored = await kind.load(tx, key)
        assert (kind.look(stored), stored.version) == (kind.look(aggregate), aggregate.version)

    @pytest.mark.parametrize("kind", RACED, ids=str)
    async def test_a_save_after_someone_else_saved_is_refused_and_theirs_stays(
        self, harness, unique, kind: Versioned,
    ) -> None:
        key = await seeded(harness, kind, unique)
        async with harness.uow()() as slow:
            mine = await kind.load(slow, key)
            async with harness.uow()() as fast:
                theirs = await kind.load(fast, key)
                kind.change(theirs, 1)
                await kind.save(fast, theirs)
                await fast.commit()
            kind.change(mine, 2)
            with pytest.raises(ConcurrencyConflict):  # at the save, or at the commit a store held it back for
                await kind.save(slow, mine)
                await slow.commit()
        async with harness.uow()() as tx:
            stored = await kind.load(tx, key)
        assert (kind.look(stored), stored.version) == (kind.look(theirs), theirs.version)

    @pytest.mark.parametrize("kind", RACED, ids=str)
    async def test_an_unchanged_aggregate_has_nothing_to_write_so_its_save_conflicts_with_nothing(
        self, harness, unique, kind: Versioned,
    ) -> None:
        key = await seeded(harness, kind, unique)
        async with harness.uow()() as slow:
            mine = await kind.load(slow, key)
            async with harness.uow()() as fast:
                theirs = await kind.load(fast, key)
                kind.change(theirs, 1)
                await kind.save(fast, theirs)
                await fast.commit()
            await kind.save(slow, mine)  # a use case whose change turned out to change nothing
        async with harness.uow()() as tx:
            stored = await kind.load(tx, key)
        assert (kind.look(stored), stored.version) == (kind.look(theirs), theirs.version)

    @pytest.mark.parametrize("kind", KINDS, ids=str)
    async def test_saving_what_this_unit_of_work_never_loaded_is_a_bug_it_refuses(
        self, harness, unique, kind: Versioned,
    ) -> None:
        key = await seeded(harness, kind, unique)
        async with harness.uow()() as elsewhere:
            aggregate = await kind.load(elsewhere, key)
        kind.change(aggregate, 1)
        async with harness.uow()() as tx:
            with pytest.raises(NotLoaded):
                await kind.save(tx, aggregate)

    async def test_a_transaction_that_lost_a_race_runs_again_on_what_won(self, harness, unique) -> None:
        order = new_order(unique)
        async with harness.uow()() as tx:
            await tx.orders.add(order)
            await tx.commit()
        runs = 0

        async def note_it() -> None:
            nonlocal runs
            runs += 1
            async with harness.uow()() as tx:
                mine = await tx.orders.get(order.id)
                if runs == 1:  # another clerk saves between our load and our save
                    async with harness.uow()() as other:
                        theirs = await other.orders.get(order.id)
                        theirs.note(action="theirs", detail="", now=NOW, actor="staff:other")
                        await other.orders.save(theirs)
                        await other.commit()
                mine.note(action="mine", detail="", now=NOW, actor="staff:me")
                await tx.orders.save(mine)
                await tx.commit()

        await retry_on_conflict(note_it)
        async with harness.uow()() as tx:
            stored = await tx.orders.get(order.id)
        assert runs == 2
        assert [e.action for e in stored.timeline][-2:] == ["theirs", "mine"]
        assert stored.version == order.version + 2


class TestMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def harness(self, memory_harness):
        return memory_harness


class TestPostgresUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def harness(self, postgres_harness):
        return postgres_harness

    # Beyond the contract: the PostgreSQL unit of work holds hot-path writes back and sends them with COMMIT.

    async def test_writes_held_back_until_the_commit_fail_it_and_leave_nothing(self, engine, unique) -> None:
        """The PostgreSQL unit of work sends hot-path writes together with COMMIT: what the database
        refuses there surfaces from ``commit`` (a CHECK as IntegrityError, a unique index as a
        Conflict) and nothing is kept."""
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import text
        from sqlalchemy.exc import IntegrityError

        from adapters.memory.clock import SequentialIds
        from adapters.postgres.unit_of_work import PostgresUnitOfWork
        from domain.inventory.reservation import Reservation
        from domain.inventory.stock import Location
        from domain.shared.errors import Conflict

        ids = SequentialIds()

        def uow() -> PostgresUnitOfWork:
            return PostgresUnitOfWork(engine, ids)

        async def outbox_rows() -> int:
            async with engine.connect() as conn:
                return int(await conn.scalar(
                    text("SELECT count(*) FROM outbox WHERE aggregate_id LIKE :a"), {"a": f"%{unique}%"}
                ))

        now = datetime(2026, 12, 1, tzinfo=UTC)
        sku, location = f"UOW-{unique}", f"loc-{unique}"
        async with uow() as tx:
            await tx.stock.add_location(Location(id=location, name="Main"))
            item = await tx.stock.get_or_create(sku, location)
            item.receive(3, actor="ops", now=now)
            held = Reservation.place(
                id=f"r1-{unique}", reference=f"chk-{unique}", requested={sku: 1}, stock={sku: [item]}, policies={},
                now=now, ttl=timedelta(minutes=5),
            )
            await tx.stock.save([item])
            await tx.reservations.add_many([held])
            await tx.commit()
        committed_events = await outbox_rows()
        assert committed_events > 0

        async with uow() as tx:  # the CHECK on_hand >= reserved, the last line of defence
            [item] = (await tx.stock.lock([sku]))[sku]
            item.receive(1, actor="ops", now=now)
            item.reserved = item.on_hand + 1  # what a bug in the domain would write
            await tx.stock.save([item])
            with pytest.raises(IntegrityError):
                await tx.commit()

        async with uow() as tx:  # a second active reservation for the same checkout: a conflict
            [item] = (await tx.stock.lock([sku]))[sku]
            twin = Reservation.place(
                id=f"r2-{unique}", reference=f"chk-{unique}", requested={sku: 1}, stock={sku: [item]}, policies={},
                now=now, ttl=timedelta(minutes=5),
            )
            await tx.stock.save([item])
            await tx.reservations.add_many([twin])
            with pytest.raises(Conflict, match="uq_reservations_active_reference"):
                await tx.commit()

        async with uow() as tx:
            [item] = await tx.stock.levels(sku)
            assert (item.on_hand, item.reserved) == (3, 1)
            assert [m.kind.value for m in await tx.stock.movements(sku, 10)] == ["reserved", "received"]
            holding = await tx.connection.scalars(
                text("SELECT id FROM reservations WHERE reference = :r"), {"r": f"chk-{unique}"}
            )
            assert holding.all() == [f"r1-{unique}"]
        assert await outbox_rows() == committed_events  # the refused transactions announced nothing

    async def test_a_connection_goes_back_to_the_pool_transactional_whatever_the_unit_of_work_did(
        self, database_url, unique
    ) -> None:
        """A unit of work runs its reads in autocommit mode, set on the driver behind SQLAlchemy's
        back: the one pooled connection must come back from a read, a commit, a refused commit and
        an exception ready for a caller that expects BEGIN … ROLLBACK to mean what it says."""
        from sqlalchemy import text

        from adapters.memory.clock import SequentialIds
        from adapters.postgres.engine import make_engine
        from adapters.postgres.unit_of_work import PostgresUnitOfWork
        from domain.shared.errors import ConcurrencyConflict

        engine = make_engine(database_url, pool_size=1, max_overflow=0)  # every use meets the same connection
        ids = SequentialIds()
        table = f"uow_pool_{unique}"

        async def transactional() -> None:
            async with engine.connect() as conn:
                driver = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
                assert driver.autocommit is False
                await conn.execute(text(f"INSERT INTO {table} VALUES (1)"))
                await conn.rollback()  # a real transaction: the row is gone
                assert await conn.scalar(text(f"SELECT count(*) FROM {table} WHERE n = 1")) == 0
                await conn.rollback()

        async def refused() -> None:  # a checked write that meets no row: refused at the commit
            async with PostgresUnitOfWork(engine, ids) as tx:
                tx._pipeline.stage(f"UPDATE {table} SET n = 2 WHERE n = 42", [], expect_one="row 42")
                await tx.commit()

        async def failing() -> None:
            async with PostgresUnitOfWork(engine, ids) as tx:
                await tx._pipeline.query((f"SELECT n FROM {table} FOR UPDATE", ()))
                raise RuntimeError("a bug half-way")

        try:
            async with engine.begin() as conn:
                await conn.execute(text(f"CREATE TABLE {table} (n int)"))
            async with PostgresUnitOfWork(engine, ids) as tx:  # only reads
                await tx._pipeline.read(f"SELECT n FROM {table}", ())
            await transactional()
            async with PostgresUnitOfWork(engine, ids) as tx:  # writes and commits
                tx._pipeline.stage(f"INSERT INTO {table} VALUES (7)", [])
                await tx.commit()
            await transactional()
            with pytest.raises(ConcurrencyConflict):
                await refused()
            await transactional()
            with pytest.raises(RuntimeError):
                await failing()
            await transactional()
        finally:
            async with engine.begin() as conn:
                await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            await engine.dispose()

    async def test_writes_staged_inside_a_savepoint_go_or_stay_with_it(self, engine) -> None:
        from sqlalchemy import text

        from adapters.postgres.pipeline import Flushing, Pipeline, StagedWriteFailed

        async with engine.connect() as conn:
            await conn.execute(text("CREATE TEMP TABLE staged_probe (n int NOT NULL)"))
            pipeline = Pipeline(conn)
            db = Flushing(conn, pipeline)
            with pytest.raises(RuntimeError, match="undo"):
                async with db.begin_nested():
                    pipeline.stage("INSERT INTO staged_probe VALUES (%b)", (1,))
                    raise RuntimeError("undo")
            async with db.begin_nested():
                pipeline.stage("INSERT INTO staged_probe VALUES (%b)", (2,))
            pipeline.stage("INSERT INTO staged_probe VALUES (%b)", (3,))
            assert (await db.scalars(text("SELECT n FROM staged_probe ORDER BY n"))).all() == [2, 3]

            # A staged write the database refuses is reported as such, not as the next statement's error.
            pipeline.stage("INSERT INTO staged_probe VALUES (%b)", (None,))
            with pytest.raises(StagedWriteFailed, match="null value"):
                await db.execute(text("SELECT 1"))
            await conn.rollback()

    async def test_after_a_commit_the_topics_it_wrote_are_told_and_a_rollback_tells_nothing(
        self, engine, unique,
    ) -> None:
        """The catalog version is bumped from here: after the COMMIT, with the topics of the events written."""
        from adapters.memory.clock import SequentialIds
        from adapters.postgres.unit_of_work import PostgresUnitOfWork

        heard: list[list[str]] = []

        async def committed(topics: list[str]) -> None:
            heard.append(topics)

        uow = lambda: PostgresUnitOfWork(engine, SequentialIds(unique), committed)  # noqa: E731
        await create_product(CreateProduct(name=f"Told {unique}", sku=f"TOLD-{unique}", price_amount=100,
                                           currency="EUR"), uow=uow, clock=FakeClock(NOW), ids=SequentialIds(unique))
        assert heard
        assert all(isinstance(topic, str) for topics in heard for topic in topics)
        assert any("catalog.product_saved.v1" in topics for topics in heard)
        told = len(heard)
        async with uow() as tx:  # a unit of work that writes nothing and ends without commit
            await tx.products.product_ids_for_skus([f"TOLD-{unique}"])
        assert len(heard) == told
