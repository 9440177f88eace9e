"""Where product media live (``MediaStorage``) and what reads and resizes them (``ImageCodec``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.shared.errors import InvalidInput, NotFound

IMMUTABLE = "public, max-age=31536000, immutable"
"""The cache header of a content-hashed object: its name changes whenever its bytes would."""


class NotAnImage(InvalidInput):
    """The upload is not an image of a format the shop takes (read from its bytes, not its name or type)."""


class ImageTooLarge(InvalidInput):
    """The upload is more bytes than the shop takes (``limit`` in bytes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"an image may be at most {limit} bytes")
        self.limit = limit


class UnsupportedUpload(InvalidInput):
    """An upload must be the image's bytes as the body (``image/…`` or ``application/octet-stream``), not a form."""


class MediaNotFound(NotFound):
    """No public object at this key (originals are never served)."""


class TooManyPixels(InvalidInput):
    """The image decodes to more pixels than the shop takes (a decompression bomb, or just too big)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredObject:
    data: bytes
    content_type: str
    cache_control: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageFacts:
    """What checking an upload found: its media type (from its content) and its size as shown."""

    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Encoded:
    """One rendition made: its bytes and what they are."""

    width: int
    height: int
    content_type: str
    extension: str
    data: bytes


class MediaStorage(Protocol):
    """Objects by key (``products/<id>/…``): originals kept private, renditions served with ``cache_control``."""

    async def put(self, key: str, data: bytes, *, content_type: str, cache_control: str = "private") -> None:
        """Store ``data`` at ``key``, replacing what was there."""
        ...

    async def get(self, key: str) -> StoredObject | None:
        """The object at ``key``, or None."""
        ...

    async def delete(self, keys: list[str]) -> None:
        """Delete these objects; a key that holds nothing is fine (deleting twice is deleting once)."""
        ...

    def url(self, key: str) -> str:
        """Where a browser fetches the object (the API's ``/media/`` route, or the bucket's public address)."""
        ...


class ImageCodec(Protocol):
    """Image decoding and encoding; the CPU work runs off the event loop."""

    async def inspect(self, data: bytes) -> ImageFacts:
        """Check an upload by its content: ``NotAnImage`` or ``TooManyPixels``, else what it is."""
        ...

    async def renditions(self, data: bytes, widths: tuple[int, ...]) -> list[Encoded]:
        """The image turned upright (its EXIF orientation applied), its metadata dropped, at each of
        ``widths`` not wider than itself (never upscaled; its own width when it is narrower than all),
        in every modern format the codec writes. ``NotAnImage`` when it cannot be decoded."""
        ...
