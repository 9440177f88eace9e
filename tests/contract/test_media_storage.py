"""The MediaStorage contract (``MediaStorageContract``) on the in-memory fake, the filesystem and an S3 bucket
(moto's S3 server on loopback): objects put, read, replaced and deleted, and the whole way of an upload —
a 6000×4000 JPEG stored, its renditions made into the storage, served only as renditions, and every object
gone once the image is removed."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.media import MemoryMediaStorage
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from adapters.s3.media import S3MediaStorage
from adapters.system.media_files import FilesystemMediaStorage
from application.catalog import media_commands as m
from application.catalog.commands import CreateProduct
from application.ports.media import IMMUTABLE, MediaNotFound
from tests.support.bus import build_bus
from tests.support.images import large_jpeg, opened
from tests.support.network import free_port

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


class MediaStorageContract:
    """What every MediaStorage does alike. A subclass provides ``storage``: an empty one of its kind."""

    @pytest.fixture
    def storage(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_an_object_is_read_back_with_its_type_and_cache_header_and_replaced_by_a_put(
            self, storage, unique) -> None:
        key = f"products/p-{unique}/i-1/original.jpg"
        assert await storage.get(key) is None
        await storage.put(key, b"first", content_type="image/jpeg")
        first = await storage.get(key)
        assert (first.data, first.content_type, first.cache_control) == (b"first", "image/jpeg", "private")
        await storage.put(key, b"second", content_type="image/webp", cache_control=IMMUTABLE)
        second = await storage.get(key)
        assert (second.data, second.content_type, second.cache_control) == (b"second", "image/webp", IMMUTABLE)
        assert storage.url(key).endswith("/" + key)

    async def test_deleting_is_idempotent_and_touches_only_the_keys_named(self, storage, unique) -> None:
        kept, gone = f"products/p-{unique}/a/x.webp", f"products/p-{unique}/b/y.webp"
        for key in (kept, gone):
            await storage.put(key, key.encode(), content_type="image/webp")
        await storage.delete([gone, f"products/p-{unique}/never/was.webp"])
        await storage.delete([gone])
        assert await storage.get(gone) is None
        assert (await storage.get(kept)).data == kept.encode()
        await storage.delete([])

    async def test_a_6000_by_4000_jpeg_becomes_renditions_in_the_storage_and_leaves_nothing_when_removed(
            self, storage) -> None:
        ids = SequentialIds()
        db = MemoryDatabase()
        bus = build_bus(uow=lambda: MemoryUnitOfWork(db, ids), clock=FakeClock(), ids=ids, media_storage=storage)
        product_id = await bus.handle(CreateProduct(name="Poster", sku="POSTER-1", price_amount=900, currency="EUR"))
        uploaded = await bus.handle(m.UploadImage(product_id=product_id, data=large_jpeg(), alt="A poster"))
        assert (uploaded.width, uploaded.height, uploaded.content_type) == (6000, 4000, "image/jpeg")
        original = f"products/{product_id}/{uploaded.id}/original.jpg"
        assert (await storage.get(original)).data == large_jpeg()

        assert await bus.handle(m.RenderImage(product_id=product_id, image_id=uploaded.id)) is True
        [image] = (await bus.handle(m.GetGallery(product_id=product_id))).images
        assert sorted({r.width for r in image.renditions}) == [320, 640, 1024, 2048]
        for rendition in image.renditions:
            key = rendition.url.removeprefix("/media/")
            served = await bus.handle(m.GetMediaObject(key=key))
            assert (served.content_type, served.cache_control) == (rendition.type, IMMUTABLE)
            assert opened(served.data).size == (rendition.width, round(rendition.width * 4000 / 6000))
        with pytest.raises(MediaNotFound):
            await bus.handle(m.GetMediaObject(key=original))

        await bus.handle(m.RemoveImage(product_id=product_id, image_id=uploaded.id))
        keys = [original, *(r.url.removeprefix("/media/") for r in image.renditions)]
        await bus.handle(m.DeleteMediaObjects(keys=keys))  # what the worker does with ImageRemoved
        assert [k for k in keys if await storage.get(k) is not None] == []


class TestMemoryMediaStorage(MediaStorageContract):
    @pytest.fixture
    def storage(self):
        return MemoryMediaStorage()


class TestFilesystemMediaStorage(MediaStorageContract):
    @pytest.fixture
    def storage(self, tmp_path):
        return FilesystemMediaStorage(tmp_path / "media")

    async def test_a_key_never_leaves_the_media_directory(self, tmp_path) -> None:
        storage = FilesystemMediaStorage(tmp_path / "media")
        (tmp_path / "secret").write_text("keep out")
        for key in ("../secret", "products/../../secret", "/etc/passwd", "products/x.meta", ".hidden"):
            assert await storage.get(key) is None
            with pytest.raises(ValueError, match="not a media key"):
                await storage.put(key, b"x", content_type="image/webp")


@pytest.fixture(scope="module")
def s3_bucket() -> Iterator[tuple[str, str]]:
    """A bucket on moto's S3 server, on a loopback port, for this module."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket="emporium-media")
        yield endpoint, "emporium-media"
    finally:
        server.stop()


class TestS3MediaStorage(MediaStorageContract):
    @pytest.fixture
    def storage(self, s3_bucket):
        endpoint, bucket = s3_bucket
        return S3MediaStorage(bucket, endpoint_url=endpoint, region="us-east-1", access_key="testing",
                              secret_key="testing")
