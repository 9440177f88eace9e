"""A product's gallery: uploaded images in display order, each with alt text, the variants it shows and,
once the worker has made them, its renditions (resized, re-encoded copies a storefront serves)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.catalog.product import CatalogError
from domain.shared.errors import NotFound
from domain.shared.events import Aggregate, DomainEvent

MAX_IMAGES = 50
MAX_ALT = 500
PROCESSING, READY, FAILED = "processing", "ready", "failed"


class ImageNotFound(NotFound):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendition:
    """One resized copy: its width in pixels, media type (``image/webp``), storage key and public URL."""

    width: int
    height: int
    content_type: str
    key: str
    url: str
    size: int  # bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    id: str
    original_key: str  # the upload as received: kept private, never served
    content_type: str
    width: int
    height: int
    size: int  # bytes
    alt: str = ""
    skus: tuple[str, ...] = ()  # the variants it shows; none: the whole product
    status: str = PROCESSING
    renditions: tuple[Rendition, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """Every stored object of the image."""
        return (self.original_key, *(r.key for r in self.renditions))


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageUploaded(DomainEvent):
    """An original was stored: the worker makes its renditions (``aggregate_id`` is the product's)."""

    topic = "catalog.image_uploaded.v1"
    image_id: str
    original_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRemoved(DomainEvent):
    """An image left the gallery: its stored objects are deleted."""

    topic = "catalog.image_removed.v1"
    image_id: str
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class GalleryChanged(DomainEvent):
    """What the storefront shows of the gallery changed: the product's document is built again."""

    topic = "catalog.gallery_changed.v1"


def _check_alt(alt: str) -> str:
    if len(alt) > MAX_ALT:
        raise CatalogError(f"alt text has at most {MAX_ALT} characters")
    return alt.strip()


class Gallery(Aggregate):
    """The images of one product (``id`` is the product's id)."""

    def __init__(self, *, id: str, images: list[Image] | None = None, version: int = 0) -> None:
        self.id = id
        self.images = list(images or [])
        self.version = version
        self.events = []

    def image(self, image_id: str) -> Image:
        found = next((i for i in self.images if i.id == image_id), None)
        if found is None:
            raise ImageNotFound(f"product {self.id} has no image {image_id}")
        return found

    def add(self, image: Image, *, now: datetime) -> None:
        """Append a just-stored upload; it is shown once its renditions are made."""
        if len(self.images) >= MAX_IMAGES:
            raise CatalogError(f"a product has at most {MAX_IMAGES} images")
        if any(i.id == image.id for i in self.images):
            raise CatalogError(f"image {image.id} is already in the gallery")
        self.images.append(replace(image, alt=_check_alt(image.alt), status=PROCESSING, renditions=()))
        self.version += 1
        self._record(ImageUploaded(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now,
                                   image_id=image.id, original_key=image.original_key))

    def describe(self, image_id: str, *, now: datetime, alt: str | None = None,
                 skus: tuple[str, ...] | None = None) -> None:
        """New alt text and/or the variants the image shows (the SKUs are the caller's to check)."""
        image = self.image(image_id)
        changed = replace(image, alt=image.alt if alt is None else _check_alt(alt),
                          skus=image.skus if skus is None else tuple(dict.fromkeys(skus)))
        if changed != image:
            self._put(changed, now)

    def reorder(self, image_ids: list[str], *, now: datetime) -> None:
        """The images in this order: every image named once."""
        if sorted(image_ids) != sorted(i.id for i in self.images) or len(set(image_ids)) != len(image_ids):
            raise CatalogError("name every image of the product exactly once")
        if image_ids == [i.id for i in self.images]:
            return
        by_id = {i.id: i for i in self.images}
        self.images = [by_id[i] for i in image_ids]
        self._changed(now)

    def remove(self, image_id: str, *, now: datetime) -> None:
        image = self.image(image_id)
        self.images.remove(image)
        self.version += 1
        self._record(ImageRemoved(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now,
                                  image_id=image.id, keys=image.keys))
        if image.status == READY:
            self._record(GalleryChanged(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now))

    def rendered(self, image_id: str, renditions: tuple[Rendition, ...], *, now: datetime) -> bool:
        """The worker made the image's renditions; False (nothing changes) when it was done before."""
        image = self.image(image_id)
        if image.status != PROCESSING:
            return False
        if not renditions:
            raise CatalogError("an image is shown through at least one rendition")
        self._put(replace(image, status=READY, renditions=renditions), now)
        return True

    def unreadable(self, image_id: str, *, now: datetime) -> bool:
        """The worker could not decode the upload: it stays in the gallery as failed, never shown."""
        image = self.image(image_id)
        if image.status != PROCESSING:
            return False
        self.images[self.images.index(image)] = replace(image, status=FAILED)
        self.version += 1
        return True

    def shown(self) -> list[Image]:
        """What a storefront shows: the ready images, in order."""
        return [i for i in self.images if i.status == READY]

    def _put(self, image: Image, now: datetime) -> None:
        self.images = [image if i.id == image.id else i for i in self.images]
        self._changed(now)

    def _changed(self, now: datetime) -> None:
        self.version += 1
        self._record(GalleryChanged(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now))
