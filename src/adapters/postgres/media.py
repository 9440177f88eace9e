"""Product galleries: one row per product, its images as JSON, saved optimistically by version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.versions import LoadedVersions
from domain.catalog.media import Gallery, Image, Rendition
from domain.catalog.product import ProductNotFound
from domain.shared.errors import ConcurrencyConflict
from domain.shared.events import Aggregate


def _images_to_rows(gallery: Gallery) -> list[dict[str, Any]]:
    return [
        {"id": i.id, "original_key": i.original_key, "content_type": i.content_type, "width": i.width,
         "height": i.height, "size": i.size, "alt": i.alt, "skus": list(i.skus), "status": i.status,
         "renditions": [{"width": r.width, "height": r.height, "content_type": r.content_type, "key": r.key,
                         "url": r.url, "size": r.size} for r in i.renditions]}
        for i in gallery.images
    ]


def _gallery(product_id: str, images: list[dict[str, Any]], version: int) -> Gallery:
    return Gallery(id=product_id, version=version, images=[
        Image(id=i["id"], original_key=i["original_key"], content_type=i["content_type"], width=i["width"],
              height=i["height"], size=i["size"], alt=i["alt"], skus=tuple(i["skus"]), status=i["status"],
              renditions=tuple(Rendition(**r) for r in i["renditions"]))
        for i in images
    ])


class PostgresGalleries:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen
        self._versions = LoadedVersions("gallery")

    async def get(self, product_id: str) -> Gallery:
        g = t.product_galleries
        row = (await self._conn.execute(select(g).where(g.c.product_id == product_id).with_for_update())).first()
        gallery = Gallery(id=product_id) if row is None else _gallery(product_id, row.images, row.version)
        self._seen.append(gallery)
        self._versions.remember(product_id, gallery.version)
        return gallery

    async def save(self, gallery: Gallery) -> None:
        expected = self._versions.expected(gallery.id)
        if gallery.version == expected:
            return  # unchanged since it was loaded
        g = t.product_galleries
        values = {"images": _images_to_rows(gallery), "version": gallery.version}
        if expected == 0:  # a first image: a row no one else may have inserted meanwhile
            try:
                async with self._conn.begin_nested():
                    result = await self._conn.execute(
                        pg_insert(g).values(product_id=gallery.id, **values).on_conflict_do_nothing()
                        .returning(g.c.product_id)
                    )
            except IntegrityError:
                raise ProductNotFound(gallery.id) from None
        else:
            result = await self._conn.execute(
                update(g).where(g.c.product_id == gallery.id, g.c.version == expected).values(**values)
                .returning(g.c.product_id)
            )
        if result.first() is None:
            raise ConcurrencyConflict(f"the gallery of product {gallery.id} changed meanwhile")
        self._versions.remember(gallery.id, gallery.version)

    async def of_products(self, product_ids: list[str]) -> dict[str, Gallery]:
        if not product_ids:
            return {}
        g = t.product_galleries
        rows = await self._conn.execute(select(g).where(g.c.product_id.in_(product_ids)))
        return {r.product_id: _gallery(r.product_id, r.images, r.version) for r in rows}
