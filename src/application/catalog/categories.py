"""Category tree use cases and its read model (a nested tree, version-guarded)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import msgspec

from application.messaging.registry import Command, handler
from application.ports.clock import Clock, IdGenerator
from application.ports.unit_of_work import UnitOfWork
from domain.catalog.categories import Category, CategoryTree, CategoryTreeChanged
from domain.catalog.product import slugify


class CategoryNode(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    slug: str
    children: list[CategoryNode]


class CategoryRepository(Protocol):
    async def tree(self) -> CategoryTree:
        """The whole tree, locked for this transaction."""
        ...

    async def save(self, tree: CategoryTree) -> None: ...


class CategoryView(Protocol):
    async def replace(self, categories: list[Category], version: int) -> bool:
        """Store the tree unless a newer version is already there."""
        ...

    async def nodes(self) -> list[CategoryNode]: ...

    async def by_slug(self, slug: str) -> CategoryNode | None: ...


class CategoryUnitOfWork(UnitOfWork, Protocol):
    categories: CategoryRepository
    category_view: CategoryView


@dataclass(frozen=True, slots=True, kw_only=True)
class AddCategory(Command[str]):
    name: str
    slug: str | None = None
    parent_id: str | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveCategory(Command[None]):
    category_id: str
    parent_id: str | None
    position: int | None = None


@handler
async def add_category(cmd: AddCategory, *, uow: Callable[[], CategoryUnitOfWork], clock: Clock,
                       ids: IdGenerator) -> str:
    category_id = ids.new_id()
    async with uow() as tx:
        tree = await tx.categories.tree()
        tree.add(id=category_id, name=cmd.name, slug=cmd.slug or slugify(cmd.name), parent_id=cmd.parent_id,
                 position=cmd.position, now=clock.now())
        await tx.categories.save(tree)
        await tx.commit()
    return category_id


@handler
async def move_category(cmd: MoveCategory, *, uow: Callable[[], CategoryUnitOfWork], clock: Clock) -> None:
    async with uow() as tx:
        tree = await tx.categories.tree()
        tree.move(cmd.category_id, parent_id=cmd.parent_id, position=cmd.position, now=clock.now())
        await tx.categories.save(tree)
        await tx.commit()


def nest(categories: list[Category]) -> list[CategoryNode]:
    def under(parent_id: str | None) -> list[CategoryNode]:
        level = sorted((c for c in categories if c.parent_id == parent_id), key=lambda c: c.position)
        return [CategoryNode(id=c.id, name=c.name, slug=c.slug, children=under(c.id)) for c in level]

    return under(None)


async def project_categories(event: CategoryTreeChanged, tx: CategoryUnitOfWork) -> None:
    await tx.category_view.replace(list(event.categories), event.aggregate_version)


async def category_tree(*, uow: Callable[[], CategoryUnitOfWork]) -> list[CategoryNode]:
    async with uow() as tx:
        return await tx.category_view.nodes()


async def category_by_slug(slug: str, *, uow: Callable[[], CategoryUnitOfWork]) -> CategoryNode | None:
    async with uow() as tx:
        return await tx.category_view.by_slug(slug)


def find(nodes: list[CategoryNode], slug: str) -> CategoryNode | None:
    for node in nodes:
        if node.slug == slug:
            return node
        found = find(node.children, slug)
        if found is not None:
            return found
    return None
