"""Product images for merchandisers: upload, alt text and variants, order, removal."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Meta

from application.catalog import media_commands as m
from application.ports.media import ImageTooLarge, UnsupportedUpload
from entrypoints.http.admin.products import MERCHANDISER, Id, Sku, Strict
from entrypoints.http.auth import staff_guard
from entrypoints.http.dependencies import Bus, Limits

ImageId = Annotated[str, PathParameter(max_length=64)]
Alt = Annotated[str, Meta(max_length=500)]
_RAW = ("image/", "application/octet-stream")


class DescribeIn(Strict):
    alt: Alt | None = None
    skus: Annotated[list[Sku], Meta(max_length=100)] | None = None  # the variants it shows; [] for all


class OrderIn(Strict):
    image_ids: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=100)]


async def read_upload(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The body, as long as it is at most ``limit`` bytes: refused by its Content-Length before a byte is
    read, else as soon as the bytes streamed in pass the limit (nothing is stored either way)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media_type.startswith(_RAW):
        raise UnsupportedUpload("send the image's bytes as the body, with Content-Type image/… "
                                "or application/octet-stream (its content decides what it is)")
    announced = request.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        raise ImageTooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ImageTooLarge(limit)
    return bytes(body)


class AdminMediaController(Controller):
    path = "/admin/products/{product_id:str}/media"
    tags = ["admin: catalog"]
    guards = [staff_guard]

    @post("/", operation_id="admin_upload_image", opt=MERCHANDISER, status_code=201,
          request_max_body_size=None)  # the shop's own limit (EMPORIUM_MEDIA_MAX_BYTES) is read_upload's
    async def upload(
        self, request: Request[Any, Any, Any], bus: Bus, media_limits: Limits, product_id: Id,
        alt: Annotated[str, QueryParameter(max_length=500)] = "",
    ) -> m.ImageView:
        """The image's bytes as the body (``Content-Type: image/jpeg``, ``image/png``, … or
        ``application/octet-stream``): JPEG, PNG, WebP, GIF or AVIF, told by its content. It is added at
        the end of the gallery as ``processing``; the worker makes its renditions, then it is shown."""
        data = await read_upload(request, media_limits.max_bytes)
        return await bus.handle(m.UploadImage(product_id=product_id, data=data, alt=alt))

    @get("/", operation_id="admin_get_gallery", opt=MERCHANDISER)
    async def gallery(self, bus: Bus, product_id: Id) -> m.GalleryView:
        return await bus.handle(m.GetGallery(product_id=product_id))

    @put("/order", operation_id="admin_reorder_images", opt=MERCHANDISER)
    async def reorder(self, bus: Bus, product_id: Id, data: JSONBody[OrderIn]) -> m.GalleryView:
        return await bus.handle(m.ReorderImages(product_id=product_id, image_ids=data.image_ids))

    @patch("/{image_id:str}", operation_id="admin_describe_image", opt=MERCHANDISER)
    async def describe(self, bus: Bus, product_id: Id, image_id: ImageId, data: JSONBody[DescribeIn]) -> m.GalleryView:
        return await bus.handle(m.DescribeImage(product_id=product_id, image_id=image_id, alt=data.alt,
                                                skus=data.skus))

    @delete("/{image_id:str}", operation_id="admin_remove_image", opt=MERCHANDISER, status_code=200)
    async def remove(self, bus: Bus, product_id: Id, image_id: ImageId) -> m.GalleryView:
        """Out of the gallery (and the storefront) at once; the worker deletes its files."""
        return await bus.handle(m.RemoveImage(product_id=product_id, image_id=image_id))
