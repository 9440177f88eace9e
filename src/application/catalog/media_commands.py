"""Product media: what staff and the worker ask of a product's gallery, and what they get back."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from application.messaging.registry import Command
from application.ports.media import StoredObject
from domain.catalog.media import Gallery, Image

DEFAULT_WIDTHS = (320, 640, 1024, 2048)


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaLimits:
    """How large an upload may be (bytes; the pixel limit is the codec's) and the widths renditions are made at."""

    max_bytes: int = 20 * 1024 * 1024
    widths: tuple[int, ...] = DEFAULT_WIDTHS


class RenditionView(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    width: int
    height: int
    type: str


class ImageView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    status: str  # processing (renditions being made), ready (shown) or failed (could not be decoded)
    alt: str
    skus: list[str]
    width: int
    height: int
    content_type: str
    size: int
    renditions: list[RenditionView]


class GalleryView(msgspec.Struct, frozen=True, kw_only=True):
    product_id: str
    version: int
    images: list[ImageView]


def image_view(image: Image) -> ImageView:
    return ImageView(
        id=image.id, status=image.status, alt=image.alt, skus=list(image.skus), width=image.width,
        height=image.height, content_type=image.content_type, size=image.size,
        renditions=[RenditionView(url=r.url, width=r.width, height=r.height, type=r.content_type)
                    for r in image.renditions],
    )


def gallery_view(gallery: Gallery) -> GalleryView:
    return GalleryView(product_id=gallery.id, version=gallery.version,
                       images=[image_view(i) for i in gallery.images])


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadImage(Command[ImageView]):
    """An upload's bytes, checked by their content, stored, and added at the end of the gallery."""

    product_id: str
    data: bytes
    alt: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetGallery(Command[GalleryView]):
    product_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DescribeImage(Command[GalleryView]):
    """New alt text and/or the variants (SKUs of the product) an image shows; None leaves it as it is."""

    product_id: str
    image_id: str
    alt: str | None = None
    skus: list[str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReorderImages(Command[GalleryView]):
    product_id: str
    image_ids: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveImage(Command[GalleryView]):
    """Out of the gallery at once; its stored objects are deleted by the worker (``ImageRemoved``)."""

    product_id: str
    image_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderImage(Command[bool]):
    """The worker's: make an uploaded image's renditions (True) unless they are made or it is gone (False)."""

    product_id: str
    image_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetMediaObject(Command[StoredObject]):
    """A public object (a rendition) to serve; ``MediaNotFound`` for anything else."""

    key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteMediaObjects(Command[None]):
    """The worker's: delete stored objects a removed image left."""

    keys: list[str]
