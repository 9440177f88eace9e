"""Product media through the bus on the in-memory fakes: uploads checked by their content and stored,
renditions made by the worker's consumer (upright, stripped, never upscaled, content-hashed), galleries
arranged by staff, and what the storefront document shows."""

from __future__ import annotations

import pytest

from adapters.memory.media import MemoryMediaStorage
from application.catalog import media_commands as m
from application.catalog.commands import AddVariant, CreateProduct, VariantSpec
from application.catalog.queries import product_by_slug
from application.messaging.consumers import deliver
from application.ports.media import IMMUTABLE, ImageTooLarge, MediaNotFound, NotAnImage, TooManyPixels
from application.subscriptions import build_registry
from domain.catalog.media import ImageNotFound, ImageRemoved, ImageUploaded
from domain.catalog.product import CatalogError, ProductNotFound
from tests.support.images import NOT_AN_IMAGE, bomb_png, opened, png, sideways_jpeg
from tests.support.unit import Shop, build_shop, peek_outbox


class Gallery:
    """A shop with one product, its media in a memory storage, and the worker's consumers at hand."""

    def __init__(self, shop: Shop, storage: MemoryMediaStorage, product_id: str) -> None:
        self.shop, self.storage, self.product_id = shop, storage, product_id
        self.asked: list[object] = []
        self.registry = build_registry(dispatch=self._collect)
        self.seen: set[str] = set()

    async def _collect(self, command: object) -> None:
        self.asked.append(command)  # the memory fake cannot nest the command's transactions in the consumer's

    async def upload(self, data: bytes, alt: str = "") -> m.ImageView:
        return await self.shop.bus.handle(m.UploadImage(product_id=self.product_id, data=data, alt=alt))

    async def work(self) -> list[str]:
        """What the relay and the worker would do with the outbox until it is quiet; the topics delivered."""
        delivered: list[str] = []
        while fresh := [m for m in await peek_outbox(self.shop.outbox) if m.id not in self.seen]:
            for message in fresh:
                self.seen.add(message.id)
                delivered.append(message.topic)
                for name in self.registry.consumers_of(message.topic):
                    await deliver(self.registry, name, message, self.shop.uow)
                    while self.asked:  # as the worker's consumer runs them: through the bus, after the mark
                        await self.shop.bus.handle(self.asked.pop(0))
        return delivered

    async def view(self) -> m.GalleryView:
        return await self.shop.bus.handle(m.GetGallery(product_id=self.product_id))

    async def document(self):
        return await product_by_slug("lamp", uow=self.shop.uow)


@pytest.fixture
async def gallery() -> Gallery:
    storage = MemoryMediaStorage()
    shop = build_shop(media_storage=storage, media_limits=m.MediaLimits(max_bytes=2_000_000))
    product_id = await shop.bus.handle(CreateProduct(name="Lamp", sku="LAMP-1", price_amount=4900, currency="EUR"))
    return Gallery(shop, storage, product_id)


async def test_an_upload_is_stored_privately_and_shown_once_its_renditions_are_made(gallery) -> None:
    image = await gallery.upload(png(1500, 1000), alt="The lamp, lit")
    assert (image.status, image.width, image.height, image.content_type) == ("processing", 1500, 1000, "image/png")
    [original] = gallery.storage.objects.values()
    assert original.cache_control == "private"
    with pytest.raises(MediaNotFound):  # an original is never served
        await gallery.shop.bus.handle(m.GetMediaObject(key=next(iter(gallery.storage.objects))))
    assert [i.status for i in (await gallery.view()).images] == ["processing"]
    assert ImageUploaded.topic in await gallery.work()
    [ready] = (await gallery.view()).images
    assert ready.status == "ready"
    # Never wider than the image: 2048 becomes its own 1500; every width in WebP and AVIF.
    assert sorted({(r.width, r.height) for r in ready.renditions}) == [(320, 213), (640, 427), (1024, 683),
                                                                        (1500, 1000)]
    assert {r.type for r in ready.renditions} == {"image/webp", "image/avif"}
    for rendition in ready.renditions:
        stored = await gallery.shop.bus.handle(m.GetMediaObject(key=rendition.url.removeprefix("/media/")))
        assert stored.cache_control == IMMUTABLE
        assert opened(stored.data).size == (rendition.width, rendition.height)

    [shown] = (await gallery.document()).media
    assert (shown.id, shown.alt, shown.width) == (ready.id, "The lamp, lit", 1500)
    assert shown.url.endswith("-1500w.webp")
    assert shown.srcset["image/webp"].count("w, ") == 3
    assert shown.srcset["image/avif"].endswith(" 1500w")


async def test_a_photo_is_turned_upright_and_loses_its_metadata(gallery) -> None:
    image = await gallery.upload(sideways_jpeg(800, 400))
    assert (image.width, image.height) == (400, 800)  # as shown, not as stored
    await gallery.work()
    [ready] = (await gallery.view()).images
    for rendition in ready.renditions:
        stored = await gallery.storage.get(rendition.url.removeprefix("/media/"))
        picture = opened(stored.data)
        assert picture.size == (rendition.width, rendition.height)
        assert picture.height > picture.width
        assert dict(picture.getexif()) == {}
        assert "xmp" not in picture.info


@pytest.mark.parametrize(("data", "error"), [
    (NOT_AN_IMAGE, NotAnImage), (b"", NotAnImage), (png(10, 10)[:40], NotAnImage),
    (bomb_png(), TooManyPixels), (bomb_png(9000, 9000), TooManyPixels), (b"\xff" * 2_000_001, ImageTooLarge),
])
async def test_what_is_not_an_acceptable_image_is_refused_and_nothing_is_stored(gallery, data, error) -> None:
    with pytest.raises(error):
        await gallery.upload(data)
    assert gallery.storage.objects == {}
    assert (await gallery.view()).images == []
    assert [m.topic for m in await peek_outbox(gallery.shop.outbox) if m.topic.startswith("catalog.image")] == []


async def test_an_unknown_product_takes_no_upload(gallery) -> None:
    with pytest.raises(ProductNotFound):
        await gallery.shop.bus.handle(m.UploadImage(product_id="nope", data=png(10, 10)))
    assert gallery.storage.objects == {}


async def test_staff_reorder_describe_and_remove_images_and_the_document_follows(gallery) -> None:
    await gallery.shop.bus.handle(AddVariant(product_id=gallery.product_id, variant=VariantSpec(sku="LAMP-2")))
    first = await gallery.upload(png(400, 300), alt="front")
    second = await gallery.upload(png(300, 300), alt="side")
    await gallery.work()
    assert [i.alt for i in (await gallery.document()).media] == ["front", "side"]

    await gallery.shop.bus.handle(m.ReorderImages(product_id=gallery.product_id, image_ids=[second.id, first.id]))
    await gallery.shop.bus.handle(m.DescribeImage(product_id=gallery.product_id, image_id=first.id,
                                                  alt="front, lit", skus=["LAMP-2"]))
    await gallery.work()
    shown = (await gallery.document()).media
    assert [(i.id, i.alt, i.skus) for i in shown] == [(second.id, "side", []), (first.id, "front, lit", ["LAMP-2"])]

    with pytest.raises(CatalogError, match="not variants"):
        await gallery.shop.bus.handle(m.DescribeImage(product_id=gallery.product_id, image_id=first.id,
                                                      skus=["OTHER-SKU"]))
    with pytest.raises(CatalogError, match="exactly once"):
        await gallery.shop.bus.handle(m.ReorderImages(product_id=gallery.product_id, image_ids=[first.id]))

    keys = {k for k in gallery.storage.objects if f"/{first.id}/" in k}
    assert len(keys) == 1 + 2 * 2  # the original, and 320 and 400 wide (never upscaled) in WebP and AVIF
    await gallery.shop.bus.handle(m.RemoveImage(product_id=gallery.product_id, image_id=first.id))
    assert ImageRemoved.topic in await gallery.work()
    assert not any(f"/{first.id}/" in k for k in gallery.storage.objects)  # its files are gone
    assert [i.id for i in (await gallery.document()).media] == [second.id]
    with pytest.raises(ImageNotFound):
        await gallery.shop.bus.handle(m.RemoveImage(product_id=gallery.product_id, image_id=first.id))


async def test_making_renditions_twice_or_after_a_removal_leaves_exactly_what_the_gallery_names(gallery) -> None:
    image = await gallery.upload(png(700, 500))
    render = m.RenderImage(product_id=gallery.product_id, image_id=image.id)
    assert await gallery.shop.bus.handle(render) is True
    before = dict(gallery.storage.objects)
    assert await gallery.shop.bus.handle(render) is False  # a redelivery: nothing made, nothing lost
    assert gallery.storage.objects == before

    late = await gallery.upload(png(700, 500))
    await gallery.shop.bus.handle(m.RemoveImage(product_id=gallery.product_id, image_id=late.id))
    await gallery.work()  # the removal deleted the original; the upload's rendering finds the image gone
    assert await gallery.shop.bus.handle(m.RenderImage(product_id=gallery.product_id, image_id=late.id)) is False
    assert not any(f"/{late.id}/" in k for k in gallery.storage.objects)


async def test_an_original_that_cannot_be_decoded_marks_the_image_failed_and_it_is_never_shown(gallery) -> None:
    image = await gallery.upload(png(64, 64))
    original = next(k for k in gallery.storage.objects if f"/{image.id}/" in k)
    await gallery.storage.put(original, png(64, 64)[:60], content_type="image/png")  # damaged on the disk
    await gallery.work()
    [failed] = (await gallery.view()).images
    assert (failed.status, failed.renditions) == ("failed", [])
    assert (await gallery.document()).media == []
