"""Product media: uploads checked and stored, renditions made by the worker, galleries arranged by staff.

An upload's bytes are stored before its row commits (with ``ImageUploaded`` in the outbox, in that
transaction), so a gallery never names an object that is not there; a failed commit deletes the object
again (a crash in between leaves an orphan object, never a broken image). Renditions are named by the hash
of their bytes, so making them twice writes the same objects and a CDN may keep each forever."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from application.catalog.media_commands import (
    DeleteMediaObjects,
    DescribeImage,
    GalleryView,
    GetGallery,
    GetMediaObject,
    ImageView,
    MediaLimits,
    RemoveImage,
    RenderImage,
    ReorderImages,
    UploadImage,
    gallery_view,
    image_view,
)
from application.catalog.ports import CatalogUnitOfWork
from application.messaging.registry import handler
from application.messaging.retry import retry_on_conflict
from application.ports.clock import Clock, IdGenerator
from application.ports.media import (
    IMMUTABLE,
    ImageCodec,
    ImageTooLarge,
    MediaNotFound,
    MediaStorage,
    NotAnImage,
    StoredObject,
)
from domain.catalog.media import PROCESSING, Gallery, Image, ImageNotFound, Rendition
from domain.catalog.product import CatalogError

Uow = Callable[[], CatalogUnitOfWork]


def _prefix(product_id: str, image_id: str) -> str:
    return f"products/{product_id}/{image_id}/"


@handler
async def upload_image(command: UploadImage, *, uow: Uow, clock: Clock, ids: IdGenerator,
                       media_storage: MediaStorage, images: ImageCodec, media_limits: MediaLimits) -> ImageView:
    if len(command.data) > media_limits.max_bytes:
        raise ImageTooLarge(media_limits.max_bytes)
    async with uow() as tx:
        await tx.products.get(command.product_id)  # an unknown product is refused before any decoding
    facts = await images.inspect(command.data)
    image_id = ids.new_id()
    image = Image(id=image_id, original_key=f"{_prefix(command.product_id, image_id)}original.{facts.extension}",
                  content_type=facts.content_type, width=facts.width, height=facts.height,
                  size=len(command.data), alt=command.alt)
    await media_storage.put(image.original_key, command.data, content_type=facts.content_type)

    async def add() -> Image:
        async with uow() as tx:
            gallery = await tx.galleries.get(command.product_id)
            gallery.add(image, now=clock.now())
            await tx.galleries.save(gallery)
            await tx.commit()
            return gallery.image(image_id)

    try:
        return image_view(await retry_on_conflict(add))
    except BaseException:
        await media_storage.delete([image.original_key])
        raise


@handler
async def get_gallery(query: GetGallery, *, uow: Uow) -> GalleryView:
    async with uow() as tx:
        await tx.products.get(query.product_id)
        found = await tx.galleries.of_products([query.product_id])
    return gallery_view(found.get(query.product_id) or Gallery(id=query.product_id))


async def _change(uow: Uow, product_id: str, change: Callable[[Gallery], None]) -> GalleryView:
    async def transaction() -> GalleryView:
        async with uow() as tx:
            gallery = await tx.galleries.get(product_id)
            change(gallery)
            await tx.galleries.save(gallery)
            await tx.commit()
            return gallery_view(gallery)

    return await retry_on_conflict(transaction)


@handler
async def describe_image(command: DescribeImage, *, uow: Uow, clock: Clock) -> GalleryView:
    skus = None if command.skus is None else tuple(command.skus)
    if skus:
        async with uow() as tx:
            product = await tx.products.get(command.product_id)
        unknown = sorted(set(skus) - {v.sku for v in product.variants})
        if unknown:
            raise CatalogError(f"not variants of product {command.product_id}: {', '.join(unknown)}")
    return await _change(uow, command.product_id, lambda g: g.describe(
        command.image_id, alt=command.alt, skus=skus, now=clock.now()))


@handler
async def reorder_images(command: ReorderImages, *, uow: Uow, clock: Clock) -> GalleryView:
    return await _change(uow, command.product_id, lambda g: g.reorder(command.image_ids, now=clock.now()))


@handler
async def remove_image(command: RemoveImage, *, uow: Uow, clock: Clock) -> GalleryView:
    return await _change(uow, command.product_id, lambda g: g.remove(command.image_id, now=clock.now()))


@handler
async def get_media_object(query: GetMediaObject, *, media_storage: MediaStorage) -> StoredObject:
    found = await media_storage.get(query.key)
    if found is None or found.cache_control.startswith("private"):
        raise MediaNotFound(query.key)
    return found


@handler
async def delete_media_objects(command: DeleteMediaObjects, *, media_storage: MediaStorage) -> None:
    await media_storage.delete(list(command.keys))


@handler
async def render_image(command: RenderImage, *, uow: Uow, clock: Clock, media_storage: MediaStorage,
                       images: ImageCodec, media_limits: MediaLimits) -> bool:
    async with uow() as tx:
        gallery = (await tx.galleries.of_products([command.product_id])).get(command.product_id)
    image = next((i for i in gallery.images if i.id == command.image_id), None) if gallery else None
    if image is None or image.status != PROCESSING:
        return False  # removed meanwhile, or made by an earlier delivery
    original = await media_storage.get(image.original_key)
    try:
        if original is None:
            raise NotAnImage(f"the original of image {image.id} is gone")
        encoded = await images.renditions(original.data, media_limits.widths)
    except NotAnImage:
        await _settle(uow, command, lambda g: g.unreadable(command.image_id, now=clock.now()))
        return False
    renditions = []
    for made in encoded:
        digest = hashlib.sha256(made.data).hexdigest()[:20]
        key = f"{_prefix(command.product_id, image.id)}{digest}-{made.width}w.{made.extension}"
        await media_storage.put(key, made.data, content_type=made.content_type, cache_control=IMMUTABLE)
        renditions.append(Rendition(width=made.width, height=made.height, content_type=made.content_type, key=key,
                                    url=media_storage.url(key), size=len(made.data)))
    kept = await _settle(uow, command, lambda g: g.rendered(command.image_id, tuple(renditions), now=clock.now()))
    # What this run wrote and the gallery does not name (the image was removed meanwhile) goes again.
    await media_storage.delete([r.key for r in renditions if r.key not in kept])
    return any(r.key in kept for r in renditions)


async def _settle(uow: Uow, command: RenderImage, change: Callable[[Gallery], bool]) -> set[str]:
    """Apply the worker's result to the gallery as it is now; the keys its image names afterwards."""

    async def transaction() -> set[str]:
        async with uow() as tx:
            gallery = await tx.galleries.get(command.product_id)
            try:
                changed = change(gallery)
            except ImageNotFound:
                return set()
            if changed:
                await tx.galleries.save(gallery)
                await tx.commit()
            return set(gallery.image(command.image_id).keys)

    return await retry_on_conflict(transaction)
