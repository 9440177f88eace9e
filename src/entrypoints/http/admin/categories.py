from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, patch, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Meta

from application.catalog.categories import AddCategory, DeleteCategory, MoveCategory, RenameCategory
from application.catalog.collections import (
    ArrangeCollection,
    CreateCollection,
    DeleteCollection,
    RenameCollection,
)
from domain.staff.roles import Role
from entrypoints.http.admin.products import Name, Slug, Strict
from entrypoints.http.auth import roles, staff_guard
from entrypoints.http.dependencies import Bus

CategoryId = Annotated[str, Meta(max_length=64)]
Position = Annotated[int, Meta(ge=0, le=10_000)]


class CategoryIn(Strict):
    name: Name
    slug: Slug | None = None
    parent_id: CategoryId | None = None
    position: Position | None = None


class MoveIn(Strict):
    parent_id: CategoryId | None
    position: Position | None = None


class RenameIn(Strict):
    name: Name
    slug: Slug | None = None  # none: the slug stays


class CategoryCreated(msgspec.Struct, kw_only=True):
    id: str


class CategoryDeleted(msgspec.Struct, kw_only=True):
    id: str
    reassigned_products: int


PathId = Annotated[str, PathParameter(max_length=64)]


class AdminCategoryController(Controller):
    path = "/admin/categories"
    tags = ["admin: catalog"]
    guards = [staff_guard]

    @post("/", operation_id="admin_add_category", opt=roles(Role.MERCHANDISER), status_code=201)
    async def add(self, bus: Bus, data: JSONBody[CategoryIn]) -> CategoryCreated:
        category_id = await bus.handle(
            AddCategory(name=data.name, slug=data.slug, parent_id=data.parent_id, position=data.position)
        )
        return CategoryCreated(id=category_id)

    @post("/{category_id:str}/move", operation_id="admin_move_category", opt=roles(Role.MERCHANDISER),
          status_code=204)
    async def move(
        self, bus: Bus, category_id: Annotated[str, PathParameter(max_length=64)],
        data: JSONBody[MoveIn],
    ) -> None:
        await bus.handle(
            MoveCategory(category_id=category_id, parent_id=data.parent_id, position=data.position)
        )

    @patch("/{category_id:str}", operation_id="admin_rename_category", opt=roles(Role.MERCHANDISER), status_code=204)
    async def rename(self, bus: Bus, category_id: PathId, data: JSONBody[RenameIn]) -> None:
        await bus.handle(RenameCategory(category_id=category_id, name=data.name, slug=data.slug))

    @delete("/{category_id:str}", operation_id="admin_delete_category", opt=roles(Role.MERCHANDISER), status_code=200)
    async def remove(
        self, bus: Bus, category_id: PathId,
        reassign_to: Annotated[CategoryId | None, QueryParameter(max_length=64)] = None,
    ) -> CategoryDeleted:
        """Refused (409 ``category-in-use``) while sub-categories remain, or while products name it unless
        ``reassign_to`` names the category they move to."""
        moved = await bus.handle(DeleteCategory(category_id=category_id, reassign_to=reassign_to))
        return CategoryDeleted(id=category_id, reassigned_products=moved)


class CollectionIn(Strict):
    name: Name
    slug: Slug | None = None


class ArrangeIn(Strict):
    product_ids: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=1000)]


class CollectionSaved(msgspec.Struct, kw_only=True):
    id: str
    version: int


class AdminCollectionController(Controller):
    path = "/admin/collections"
    tags = ["admin: catalog"]
    guards = [staff_guard]

    @post("/", operation_id="admin_create_collection", opt=roles(Role.MERCHANDISER), status_code=201)
    async def create(self, bus: Bus, data: JSONBody[CollectionIn]) -> CategoryCreated:
        collection_id = await bus.handle(
            CreateCollection(name=data.name, slug=data.slug)
        )
        return CategoryCreated(id=collection_id)

    @put("/{collection_id:str}/products", operation_id="admin_arrange_collection", opt=roles(Role.MERCHANDISER))
    async def arrange(
        self, bus: Bus, collection_id: Annotated[str, PathParameter(max_length=64)],
        data: JSONBody[ArrangeIn],
    ) -> CollectionSaved:
        version = await bus.handle(
            ArrangeCollection(collection_id=collection_id, product_ids=data.product_ids)
        )
        return CollectionSaved(id=collection_id, version=version)

    @patch("/{collection_id:str}", operation_id="admin_rename_collection", opt=roles(Role.MERCHANDISER))
    async def rename(self, bus: Bus, collection_id: PathId, data: JSONBody[RenameIn]) -> CollectionSaved:
        version = await bus.handle(RenameCollection(collection_id=collection_id, name=data.name, slug=data.slug))
        return CollectionSaved(id=collection_id, version=version)

    @delete("/{collection_id:str}", operation_id="admin_delete_collection", opt=roles(Role.MERCHANDISER),
            status_code=204)
    async def remove(self, bus: Bus, collection_id: PathId) -> None:
        await bus.handle(DeleteCollection(collection_id=collection_id))
