"""The GalleryRepository contract on the in-memory fake and PostgreSQL (the ``harness`` fixture): a product's
gallery read back as saved, its event in the outbox in the same commit, a stale first save refused, and the
projection building the storefront document from it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory.clock import FakeClock
from application.catalog.commands import CreateProduct
from application.catalog.projection import project_product
from application.catalog.queries import product_by_slug
from domain.catalog.media import Gallery, GalleryChanged, Image, ImageUploaded, Rendition
from domain.shared.errors import ConcurrencyConflict
from tests.support.bus import build_bus

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def image(image_id: str, **changes) -> Image:
    return Image(id=image_id, original_key=f"products/p/{image_id}/original.jpg", content_type="image/jpeg",
                 width=1200, height=800, size=1234, alt=changes.pop("alt", ""), **changes)


async def product(harness, unique: str) -> str:
    bus = build_bus(uow=harness.uow(), clock=FakeClock(NOW), ids=harness.ids)
    return await bus.handle(CreateProduct(name=f"Frame {unique}", sku=f"FR-{unique}", price_amount=2500,
                                          currency="EUR"))


async def test_a_product_without_images_has_an_empty_gallery(harness, unique) -> None:
    product_id = await product(harness, unique)
    async with harness.uow()() as tx:
        gallery = await tx.galleries.get(product_id)
        assert (gallery.id, gallery.version, gallery.images) == (product_id, 0, [])
        assert await tx.galleries.of_products([product_id]) == {}


async def test_a_gallery_is_read_back_as_saved_with_its_event_in_the_same_commit(harness, unique) -> None:
    product_id = await product(harness, unique)
    rendition = Rendition(width=320, height=213, content_type="image/webp", key="products/p/a/abc-320w.webp",
                          url="/media/products/p/a/abc-320w.webp", size=99)
    async with harness.uow()() as tx:
        gallery = await tx.galleries.get(product_id)
        gallery.add(image("a", alt="Front"), now=NOW)
        gallery.add(image("b"), now=NOW)
        gallery.rendered("a", (rendition,), now=NOW)
        gallery.describe("b", skus=(f"FR-{unique}",), now=NOW)
        await tx.galleries.save(gallery)
        await tx.commit()
    async with harness.uow()() as tx:
        [stored] = (await tx.galleries.of_products([product_id, "no-such-product"])).values()
        again = await tx.galleries.get(product_id)
    assert (stored.version, again.version) == (4, 4)
    assert stored.images == again.images == [
        image("a", alt="Front", status="ready", renditions=(rendition,)),
        image("b", skus=(f"FR-{unique}",)),
    ]
    topics = [m.topic for m in await harness.outbox_for(product_id)]
    assert topics.count(ImageUploaded.topic) == 2
    assert topics.count(GalleryChanged.topic) == 2

    async with harness.uow()() as tx:
        await project_product(product_id, tx)
        await tx.commit()
    document = await product_by_slug(f"frame-{unique}", uow=harness.uow())
    assert [(i.id, i.alt, i.url) for i in document.media] == [("a", "Front", rendition.url)]


async def test_a_first_save_that_lost_the_race_is_refused(harness, unique) -> None:
    product_id = await product(harness, unique)
    first, second = harness.uow()(), harness.uow()()
    async with first as a, second as b:
        mine, theirs = await a.galleries.get(product_id), await b.galleries.get(product_id)
        mine.add(image("a"), now=NOW)
        theirs.add(image("b"), now=NOW)
        await a.galleries.save(mine)
        await a.commit()
        with pytest.raises(ConcurrencyConflict):
            await b.galleries.save(theirs)
    async with harness.uow()() as tx:
        assert [i.id for i in (await tx.galleries.get(product_id)).images] == ["a"]


def test_a_gallery_names_every_object_of_its_images() -> None:
    gallery = Gallery(id="p")
    gallery.add(image("a"), now=NOW)
    rendition = Rendition(width=320, height=213, content_type="image/webp", key="k", url="/media/k", size=1)
    gallery.rendered("a", (rendition,), now=NOW)
    assert gallery.image("a").keys == ("products/p/a/original.jpg", "k")
