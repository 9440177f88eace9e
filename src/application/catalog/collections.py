"""Collection use cases and the storefront collection page (from read models only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import msgspec

from application.catalog.ports import CatalogUnitOfWork
from application.catalog.read_models import ProductSummary, summary
from application.messaging.registry import Command, handler
from application.ports.clock import Clock, IdGenerator
from domain.catalog.collections import Collection, CollectionChanged, CollectionDeleted
from domain.catalog.product import slugify
from domain.shared.errors import NotFound


class CollectionRepository(Protocol):
    async def add(self, collection: Collection) -> None:
        """A second collection at the same slug is a Conflict."""
        ...

    async def get(self, collection_id: str) -> Collection: ...

    async def save(self, collection: Collection) -> None:
        """Write a changed collection (optimistic); a slug another collection has is a Conflict."""
        ...

    async def delete(self, collection: Collection) -> None:
        """Remove a collection loaded in this unit of work (optimistic, as ``save``)."""
        ...


class CollectionEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    slug: str
    product_ids: list[str]
    version: int


class CollectionView(Protocol):
    async def upsert(self, entry: CollectionEntry) -> bool:
        """Store unless the same or a newer version is there."""
        ...

    async def remove(self, collection_id: str, version: int) -> None:
        """Leave a tombstone at ``version``: the page is gone, and an older change delivered late does not
        bring it back."""
        ...

    async def by_slug(self, slug: str) -> CollectionEntry | None: ...


class CollectionUnitOfWork(CatalogUnitOfWork, Protocol):
    collections: CollectionRepository
    collection_view: CollectionView


class CollectionPage(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    slug: str
    products: list[ProductSummary]


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateCollection(Command[str]):
    name: str
    slug: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrangeCollection(Command[int]):
    collection_id: str
    product_ids: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class RenameCollection(Command[int]):
    collection_id: str
    name: str
    slug: str | None = None  # None: keep the slug


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteCollection(Command[None]):
    collection_id: str


Uow = Callable[[], CollectionUnitOfWork]


@handler
async def create_collection(cmd: CreateCollection, *, uow: Uow, clock: Clock, ids: IdGenerator) -> str:
    collection = Collection.create(id=ids.new_id(), name=cmd.name, slug=cmd.slug or slugify(cmd.name),
                                   now=clock.now())
    async with uow() as tx:
        await tx.collections.add(collection)
        await tx.commit()
    return collection.id


@handler
async def arrange_collection(cmd: ArrangeCollection, *, uow: Uow, clock: Clock) -> int:
    async with uow() as tx:
        collection = await tx.collections.get(cmd.collection_id)
        known = {p.id for p in await tx.products.get_many(cmd.product_ids)}
        missing = [p for p in cmd.product_ids if p not in known]
        if missing:
            raise NotFound(f"no product {', '.join(missing[:5])}")
        collection.arrange(cmd.product_ids, now=clock.now())
        await tx.collections.save(collection)
        await tx.commit()
    return collection.version


@handler
async def rename_collection(cmd: RenameCollection, *, uow: Uow, clock: Clock) -> int:
    async with uow() as tx:
        collection = await tx.collections.get(cmd.collection_id)
        collection.rename(name=cmd.name, slug=cmd.slug, now=clock.now())
        await tx.collections.save(collection)
        await tx.commit()
    return collection.version


@handler
async def delete_collection(cmd: DeleteCollection, *, uow: Uow, clock: Clock) -> None:
    async with uow() as tx:
        collection = await tx.collections.get(cmd.collection_id)
        collection.delete(now=clock.now())
        await tx.collections.delete(collection)
        await tx.commit()


async def project_collection_deleted(event: CollectionDeleted, tx: CollectionUnitOfWork) -> None:
    await tx.collection_view.remove(event.aggregate_id, event.aggregate_version)


async def project_collection(event: CollectionChanged, tx: CollectionUnitOfWork) -> None:
    await tx.collection_view.upsert(
        CollectionEntry(id=event.aggregate_id, name=event.name, slug=event.slug, product_ids=list(event.product_ids),
                        version=event.aggregate_version)
    )


async def collection_page(slug: str, *, uow: Uow) -> CollectionPage | None:
    """Active products only, in the merchandiser's order."""
    async with uow() as tx:
        entry = await tx.collection_view.by_slug(slug)
        if entry is None:
            return None
        documents = [await tx.catalog_view.product_by_id(pid) for pid in entry.product_ids]
    return CollectionPage(
        id=entry.id, name=entry.name, slug=entry.slug,
        products=[summary(d) for d in documents if d is not None and d.status == "active"],
    )
