"""Product media in an S3-compatible bucket. boto3 blocks, so every call runs in a thread.

Renditions are written with their ``Cache-Control`` (immutable: their names are content hashes) and
media type, so a bucket (or a CDN in front of it) can serve them directly: set ``public_url`` to its
address. Without one, the API's ``/media/`` route serves them from the bucket. Originals are private."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from application.ports.media import StoredObject

_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3MediaStorage:
    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None, public_url: str = "/media/",
                 client: Any = None) -> None:
        self._bucket = bucket
        self._public_url = public_url if public_url.endswith("/") else public_url + "/"
        self._client = client or boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            config=Config(retries={"mode": "standard"}, s3={"addressing_style": "path"} if endpoint_url else {}),
        )

    def url(self, key: str) -> str:
        return self._public_url + key

    async def put(self, key: str, data: bytes, *, content_type: str, cache_control: str = "private") -> None:
        await asyncio.to_thread(self._client.put_object, Bucket=self._bucket, Key=key, Body=data,
                                ContentType=content_type, CacheControl=cache_control)

    async def get(self, key: str) -> StoredObject | None:
        return await asyncio.to_thread(self._get, key)

    async def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # the most one request deletes
            chunk = keys[start : start + 1000]
            await asyncio.to_thread(self._client.delete_objects, Bucket=self._bucket,
                                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})

    def _get(self, key: str) -> StoredObject | None:
        try:
            found = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        with found["Body"] as body:
            data = body.read()
        return StoredObject(data=data, content_type=found.get("ContentType") or "application/octet-stream",
                            cache_control=found.get("CacheControl") or "private")
