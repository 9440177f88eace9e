"""Category tree use cases and its read model (a nested tree, version-guarded)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import msgspec

from application.catalog.ports import CatalogUnitOfWork, CategoryRepository
from application.messaging.registry import Command, handler
from application.messaging.retry import retry_on_conflict
from application.ports.clock import Clock, IdGenerator
from domain.catalog.categories import Category, CategoryInUse, CategoryTreeChanged
from domain.catalog.product import CatalogError, slugify

__all__ = ["CategoryRepository"]  # re-exported: the tree's repository is the catalog's port


class CategoryNode(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    slug: str
    children: list[CategoryNode]


class CategoryView(Protocol):
    async def replace(self, categories: list[Category], version: int) -> bool:
        """Store the tree unless a newer version is already there."""
        ...

    async def nodes(self) -> list[CategoryNode]: ...

    async def by_slug(self, slug: str) -> CategoryNode | None: ...


class CategoryUnitOfWork(CatalogUnitOfWork, Protocol):
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


@dataclass(frozen=True, slots=True, kw_only=True)
class RenameCategory(Command[None]):
    category_id: str
    name: str
    slug: str | None = None  # None: keep the slug


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteCategory(Command[int]):
    """Delete a category without sub-categories. While products name it the delete is refused, unless
    ``reassign_to`` names the category they move to (in the same transaction); returns how many moved."""

    category_id: str
    reassign_to: str | None = None


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


@handler
async def rename_category(cmd: RenameCategory, *, uow: Callable[[], CategoryUnitOfWork], clock: Clock) -> None:
    async with uow() as tx:
        tree = await tx.categories.tree()
        tree.rename(cmd.category_id, name=cmd.name, slug=cmd.slug, now=clock.now())
        await tx.categories.save(tree)
        await tx.commit()


@handler
async def delete_category(cmd: DeleteCategory, *, uow: Callable[[], CategoryUnitOfWork], clock: Clock) -> int:
    async def attempt() -> int:
        async with uow() as tx:
            tree = await tx.categories.tree()  # locked: no product can name the category meanwhile
            tree.get(cmd.category_id)
            if cmd.reassign_to is not None:
                tree.get(cmd.reassign_to)
                if cmd.reassign_to == cmd.category_id:
                    raise CatalogError("a category cannot be reassigned to itself")
            product_ids = await tx.products.in_categories([cmd.category_id])
            if product_ids and cmd.reassign_to is None:
                raise CategoryInUse(f"category {cmd.category_id} still holds {len(product_ids)} products: move them,"
                                    " or name a category to reassign them to")
            now = clock.now()
            tree.remove(cmd.category_id, now=now)  # refused while sub-categories remain
            target = cmd.reassign_to or ""  # not empty once products are found (refused above)
            for product in await tx.products.get_many(product_ids):
                moved = (target if c == cmd.category_id else c for c in product.category_ids)
                product.revise(category_ids=tuple(dict.fromkeys(moved)), now=now)
                await tx.products.save(product)
            await tx.categories.save(tree)
            await tx.commit()
        return len(product_ids)

    return await retry_on_conflict(attempt)  # a product saved meanwhile: read it again


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


def find(nodes: list[CategoryNode], slug: str, *, by_id: bool = False) -> CategoryNode | None:
    """The node at ``slug`` (or, ``by_id``, with that id) anywhere in the tree."""
    for node in nodes:
        if (node.id if by_id else node.slug) == slug:
            return node
        found = find(node.children, slug, by_id=by_id)
        if found is not None:
            return found
    return None


async def category_by_reference(reference: str, *, uow: Callable[[], CategoryUnitOfWork]) -> CategoryNode | None:
    """A listing's ``category`` filter: a category's id or its slug."""
    async with uow() as tx:
        nodes = await tx.category_view.nodes()
    return find(nodes, reference, by_id=True) or find(nodes, reference)
