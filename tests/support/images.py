"""Images made with Pillow for the media tests: one large JPEG shared by the whole run, small ones made
on demand, an upright-by-EXIF photo carrying metadata that must not survive, and bytes that only claim
to be an image."""

from __future__ import annotations

import functools
import io

from PIL import Image

ORIENTATION, GPS_IFD, MAKE = 0x0112, 0x8825, 0x010F


@functools.cache
def large_jpeg() -> bytes:
    """6000×4000 (24 megapixels), made once per run."""
    picture = Image.linear_gradient("L").resize((6000, 4000)).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def png(width: int, height: int, *, alpha: bool = False) -> bytes:
    picture = Image.new("RGBA" if alpha else "RGB", (width, height), (200, 40, 40, 128) if alpha else (200, 40, 40))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def sideways_jpeg(width: int = 800, height: int = 400) -> bytes:
    """Stored ``width``×``height`` with EXIF orientation 6 (shown turned: ``height``×``width``), a camera
    make and a GPS position: renditions must come out upright and carry none of it."""
    picture = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "Emporium Test Camera"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0)})
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


NOT_AN_IMAGE = b"%PDF-1.7\n" + b"\x00" * 2048  # named .jpg and sent as image/jpeg by the tests


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny, well-formed PNG whose header claims ``width``×``height``: opening it must be enough to refuse it."""
    import struct
    import zlib

    source = io.BytesIO()
    Image.new("1", (8, 8)).save(source, "PNG")
    data = bytearray(source.getvalue())
    header = struct.pack(">II", width, height) + bytes(data[24:29])  # IHDR: size, then depth, colour …
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)
