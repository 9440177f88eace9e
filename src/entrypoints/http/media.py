"""Renditions served from the media storage under ``/media/``: content-hashed names, cached forever.

With the filesystem storage this is how browsers get images; with S3 it is the fallback when no public
bucket address is configured (``EMPORIUM_MEDIA_BASE_URL``). Originals (stored private) are never served."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import PathParameter

from application.catalog.media_commands import GetMediaObject
from entrypoints.http.dependencies import Bus


class MediaController(Controller):
    path = "/media"
    tags = ["media"]

    @get("/{key:path}", operation_id="get_media", include_in_schema=True)
    async def media(self, bus: Bus, key: Annotated[str, PathParameter(max_length=512)]) -> Response[bytes]:
        found = await bus.handle(GetMediaObject(key=key.lstrip("/")))
        return Response(found.data, media_type=found.content_type,
                        headers={"Cache-Control": found.cache_control, "Access-Control-Allow-Origin": "*"})
