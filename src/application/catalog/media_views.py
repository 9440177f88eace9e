"""A product's images as its document shows them: an upload's renditions, ready for ``srcset``."""

from __future__ import annotations

import msgspec

from domain.catalog.media import Image


class RenditionRef(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    width: int
    height: int
    type: str  # image/webp, image/avif


class MediaView(msgspec.Struct, frozen=True, kw_only=True):
    """An image: ``url`` is its largest WebP rendition for an upload (the URL itself for one typed in);
    ``srcset`` is ready for ``<source type=… srcset=…>``, one entry per media type."""

    url: str
    alt: str
    id: str | None = None  # uploads only
    width: int | None = None
    height: int | None = None
    skus: list[str] = []  # the variants it shows; empty: the whole product
    renditions: list[RenditionRef] = []
    srcset: dict[str, str] = {}


def media_view(image: Image) -> MediaView:
    """The storefront's view of an uploaded image that is ready (it has renditions)."""
    renditions = sorted(image.renditions, key=lambda r: (r.content_type, r.width))
    srcset: dict[str, list[str]] = {}
    for r in renditions:
        srcset.setdefault(r.content_type, []).append(f"{r.url} {r.width}w")
    webp = [r for r in renditions if r.content_type == "image/webp"] or renditions
    largest = max(webp, key=lambda r: r.width)
    return MediaView(
        url=largest.url, alt=image.alt, id=image.id, width=largest.width, height=largest.height,
        skus=list(image.skus), srcset={t: ", ".join(v) for t, v in srcset.items()},
        renditions=[RenditionRef(url=r.url, width=r.width, height=r.height, type=r.content_type) for r in renditions],
    )
