"""Uploads checked and renditions made with Pillow, in a small thread pool at a lower CPU priority.

The check reads the header (format and size: a decompression bomb is refused by its pixel count before a
single pixel is decoded) and ``verify()``s the file; it runs in the API, off the event loop. Renditions
(decode, EXIF orientation applied, metadata dropped, resized, encoded) run in the worker's pool. Pillow
releases the GIL while it decodes, resizes and encodes, so the event loop of either process keeps going.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from PIL import Image, ImageOps, UnidentifiedImageError, features

from application.ports.media import Encoded, ImageFacts, NotAnImage, TooManyPixels

NICENESS = 10
# What the shop takes, by the format Pillow finds in the bytes: media type and file extension.
ACCEPTED = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp"),
            "GIF": ("image/gif", "gif"), "AVIF": ("image/avif", "avif")}
_TURNED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_ORIENTATION = 0x0112
_BROKEN = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError)


def _yield_to_the_loop() -> None:
    """Lower this pool thread's CPU priority (Linux keeps a nice value per thread)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


def _formats(avif: bool | None) -> tuple[tuple[str, str, str, dict[str, object]], ...]:
    """The formats renditions are written in: WebP always, AVIF when this Pillow writes it."""
    webp = ("WEBP", "image/webp", "webp", {"quality": 80, "method": 4})
    if avif is False or not features.check("avif"):
        return (webp,)
    return (webp, ("AVIF", "image/avif", "avif", {"quality": 60, "speed": 8}))


class PillowImageCodec:
    def __init__(self, *, max_pixels: int = 50_000_000, threads: int = 1, avif: bool | None = None) -> None:
        """``max_pixels``: the largest image taken (width × height); ``threads``: images worked on at once;
        ``avif``: also write AVIF renditions (None: when this Pillow can)."""
        self._max_pixels = max_pixels
        self._formats = _formats(avif)
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="images",
                                        initializer=_yield_to_the_loop)

    @property
    def content_types(self) -> tuple[str, ...]:
        return tuple(t for _, t, _, _ in self._formats)

    async def inspect(self, data: bytes) -> ImageFacts:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._inspect, data)

    async def renditions(self, data: bytes, widths: tuple[int, ...]) -> list[Encoded]:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._renditions, data, widths)

    def _open(self, data: bytes) -> Image.Image:
        try:
            image = Image.open(io.BytesIO(data), formats=list(ACCEPTED))
        except Image.DecompressionBombError as error:
            raise TooManyPixels(str(error)) from None
        except _BROKEN:
            raise NotAnImage("not an image of a format the shop takes (JPEG, PNG, WebP, GIF, AVIF)") from None
        width, height = image.size
        if width < 1 or height < 1 or width * height > self._max_pixels:
            image.close()
            raise TooManyPixels(f"{width}×{height} is more than the {self._max_pixels} pixels an image may have")
        return image

    def _inspect(self, data: bytes) -> ImageFacts:
        with self._open(data) as image:
            content_type, extension = ACCEPTED[str(image.format)]
            width, height = image.size
            try:
                image.verify()
            except _BROKEN:
                raise NotAnImage("the image is damaged or truncated") from None
        with self._open(data) as image:  # verify() leaves a file unusable: open it again for its orientation
            try:
                turned = image.getexif().get(_ORIENTATION) in _TURNED
            except _BROKEN:
                turned = False
        return ImageFacts(content_type=content_type, extension=extension,
                          width=height if turned else width, height=width if turned else height)

    def _renditions(self, data: bytes, widths: tuple[int, ...]) -> list[Encoded]:
        with self._open(data) as opened:
            try:
                upright = self._decode(opened, max(widths))
            except _BROKEN:
                raise NotAnImage("the image cannot be decoded") from None
        made = []
        for width in sorted({min(w, upright.width) for w in widths}):  # never wider than the image
            height = max(1, round(upright.height * width / upright.width))
            resized = upright if width == upright.width else upright.resize(
                (width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
            for name, content_type, extension, options in self._formats:
                out = io.BytesIO()
                resized.save(out, name, icc_profile=upright.info.get("icc_profile"), **options)
                made.append(Encoded(width=width, height=height, content_type=content_type, extension=extension,
                                    data=out.getvalue()))
        return made

    @staticmethod
    def _decode(opened: Image.Image, widest: int) -> Image.Image:
        """The first frame, upright, in RGB(A), with nothing but its colour profile kept."""
        turned = opened.getexif().get(_ORIENTATION) in _TURNED
        stored_width, stored_height = opened.size
        shown_width = stored_height if turned else stored_width
        if shown_width > widest:  # a JPEG decodes at 1/2, 1/4 or 1/8 scale when that is still wide enough
            scale = widest / shown_width
            opened.draft("RGB", (max(1, int(stored_width * scale)), max(1, int(stored_height * scale))))
        upright = ImageOps.exif_transpose(opened) or opened
        upright.load()
        has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        converted = upright.convert("RGBA" if has_alpha else "RGB")
        converted.info = {k: v for k, v in upright.info.items() if k == "icc_profile"}  # EXIF, XMP, comments go
        return converted
