"""The category tree (saved whole under its version row) and its storefront read model."""

from __future__ import annotations

import msgspec
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.versions import LoadedVersions
from application.catalog.categories import CategoryNode, find, nest
from domain.catalog.categories import TREE_ID, Category, CategoryTree
from domain.shared.errors import ConcurrencyConflict
from domain.shared.events import Aggregate


class PostgresCategories:
    """The tree is saved whole under its version row (lock it, compare, rewrite the rows)."""

    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen
        self._versions = LoadedVersions("category tree")

    async def tree(self) -> CategoryTree:
        version = await self._conn.scalar(
            select(t.category_tree.c.version).where(t.category_tree.c.id == TREE_ID).with_for_update()
        )
        rows = (await self._conn.execute(select(t.categories))).all()
        tree = CategoryTree(
            [Category(id=r.id, name=r.name, slug=r.slug, parent_id=r.parent_id, position=r.position) for r in rows],
            version=int(version or 0),
        )
        self._seen.append(tree)
        self._versions.remember(TREE_ID, tree.version)
        return tree

    async def save(self, tree: CategoryTree) -> None:
        expected = self._versions.expected(TREE_ID)
        if tree.version == expected:
            return  # unchanged since it was loaded
        result = await self._conn.execute(
            update(t.category_tree)
            .where(t.category_tree.c.id == TREE_ID, t.category_tree.c.version == expected)
            .values(version=tree.version)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict("the category tree changed meanwhile")
        self._versions.remember(TREE_ID, tree.version)
        await self._conn.execute(delete(t.categories))
        if tree.nodes:
            await self._conn.execute(
                insert(t.categories),
                [{"id": c.id, "name": c.name, "slug": c.slug, "parent_id": c.parent_id, "position": c.position}
                 for c in tree.nodes.values()],
            )


    async def known(self, category_ids: list[str]) -> set[str]:
        if not category_ids:
            return set()
        # Shared: products may name categories side by side; a delete (``tree``, FOR UPDATE) waits for them,
        # then finds their products, or they wait for it and find the category gone.
        await self._conn.execute(
            select(t.category_tree.c.version).where(t.category_tree.c.id == TREE_ID).with_for_update(read=True)
        )
        wanted = sorted(set(category_ids))
        rows = await self._conn.scalars(select(t.categories.c.id).where(t.categories.c.id.in_(wanted)))
        return set(rows.all())

    async def current(self) -> list[Category]:
        rows = (await self._conn.execute(select(t.categories))).all()
        return [Category(id=r.id, name=r.name, slug=r.slug, parent_id=r.parent_id, position=r.position) for r in rows]


class PostgresCategoryView:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def replace(self, categories: list[Category], version: int) -> bool:
        rc = t.read_categories
        nodes = msgspec.to_builtins(nest(categories))
        statement = pg_insert(rc).values(id=TREE_ID, version=version, nodes=nodes)
        result = await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=[rc.c.id], set_={"version": version, "nodes": nodes}, where=rc.c.version < version
            ).returning(rc.c.id)
        )
        return result.first() is not None

    async def nodes(self) -> list[CategoryNode]:
        stored = await self._conn.scalar(select(t.read_categories.c.nodes).where(t.read_categories.c.id == TREE_ID))
        return msgspec.convert(stored or [], list[CategoryNode])

    async def by_slug(self, slug: str) -> CategoryNode | None:
        return find(await self.nodes(), slug)
