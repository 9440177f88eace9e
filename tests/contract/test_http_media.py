"""Product media over HTTP on the real stack (PostgreSQL, Redis, the filesystem storage under a data directory
of the test's own): an upload refused as problem+json storing nothing, a 6000×4000 JPEG made into renditions
by the worker's consumers and served under /media/ with immutable cache headers, and a gallery arranged and
emptied by staff, its files deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.pillow.images import PillowImageCodec
from adapters.postgres import tables as t
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import SystemClock, UuidIdGenerator
from adapters.system.media_files import FilesystemMediaStorage
from application.subscriptions import build_registry
from domain.staff.roles import Role
from tests.support.bus import build_bus
from tests.support.delivery import deliver_outbox
from tests.support.harness import PostgresHarness
from tests.support.http_app import client_for, settings_for, token_for
from tests.support.images import NOT_AN_IMAGE, large_jpeg, opened, png

FIFTY_MB = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("emporium-data")


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str, data_dir: Path):
    with client_for(settings_for(database_url, redis_url, data_dir=str(data_dir), document_cache_seconds=0)) as c:
        yield c


class Worker:
    """The worker's consumers, in-process, on the same media directory as the API."""

    def __init__(self, engine, data_dir: Path) -> None:
        ids = UuidIdGenerator()
        self.harness = PostgresHarness(engine)
        bus = build_bus(uow=lambda: PostgresUnitOfWork(engine, ids), clock=SystemClock(), ids=ids,
                        media_storage=FilesystemMediaStorage(data_dir / "media"), images=PillowImageCodec())
        self.registry = build_registry(dispatch=bus.handle)
        self.seen: set[str] = set()

    async def run(self, product_id: str) -> None:
        await deliver_outbox(self.harness, self.registry, [product_id], self.seen, rounds=4)


async def a_product(client, engine, unique: str, name: str) -> tuple[str, str, dict[str, str]]:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    created = client.post("/admin/products", headers=auth, json={
        "name": f"{name} {unique}", "sku": f"{name.upper()}-{unique}", "price": 1900, "currency": "EUR"})
    assert created.status_code == 201, created.text
    return created.json()["id"], f"{name.lower()}-{unique}", auth


def files_of(data_dir: Path, product_id: str) -> list[str]:
    root = data_dir / "media" / "products" / product_id
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def image_events(engine, product_id: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(t.outbox).where(
            t.outbox.c.aggregate_id == product_id, t.outbox.c.topic.like("catalog.%image%"))) or 0)


async def test_a_6000_by_4000_jpeg_is_served_as_renditions_with_immutable_cache_headers(
        client, engine, unique, data_dir) -> None:
    product_id, slug, auth = await a_product(client, engine, unique, "Poster")
    uploaded = client.post(f"/admin/products/{product_id}/media?alt=The+poster", content=large_jpeg(),
                           headers={**auth, "Content-Type": "image/jpeg"})
    assert uploaded.status_code == 201, uploaded.text
    image = uploaded.json()
    assert (image["status"], image["width"], image["height"], image["alt"]) == ("processing", 6000, 4000, "The poster")
    assert files_of(data_dir, product_id) == ["original.jpg", "original.jpg.meta"]

    await Worker(engine, data_dir).run(product_id)
    document = client.get(f"/store/products/{slug}")
    assert document.status_code == 200, document.text
    [shown] = document.json()["media"]
    assert (shown["id"], shown["alt"], shown["width"], shown["height"]) == (image["id"], "The poster", 2048, 1365)
    assert set(shown["srcset"]) == {"image/webp", "image/avif"}
    assert [r["width"] for r in shown["renditions"] if r["type"] == "image/webp"] == [320, 640, 1024, 2048]
    for rendition in shown["renditions"]:
        assert rendition["url"] in shown["srcset"][rendition["type"]]
        served = client.get(rendition["url"])
        assert served.status_code == 200
        assert served.headers["content-type"] == rendition["type"]
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert opened(served.content).size == (rendition["width"], rendition["height"])
    assert len(files_of(data_dir, product_id)) == 2 * (1 + 8)  # the original and 8 renditions, each with its .meta
    hidden = client.get(f"/media/products/{product_id}/{image['id']}/original.jpg")
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")
    for nowhere in ("0" * 300, f"products/{'0' * 251}", "a/../b.webp"):  # longer than a file name; climbing out
        missing = client.get(f"/media/{nowhere}")
        assert (missing.status_code, missing.headers["content-type"]) == (404, "application/problem+json"), nowhere


@pytest.mark.parametrize(("body", "content_type", "chunked", "status", "problem"), [
    (NOT_AN_IMAGE, "image/jpeg", False, 422, "not-an-image"),
    (b"\0" * FIFTY_MB, "image/jpeg", False, 413, "image-too-large"),
    (b"\0" * FIFTY_MB, "application/octet-stream", True, 413, "image-too-large"),
    (png(20, 20), "multipart/form-data; boundary=x", False, 415, "unsupported-media-type"),
])
async def test_a_non_image_or_a_50_mb_body_is_refused_as_problem_json_and_nothing_is_stored(
        client, engine, unique, data_dir, body, content_type, chunked, status, problem) -> None:
    product_id, _, auth = await a_product(client, engine, unique, "Refused")
    content = iter([body[i : i + (1 << 20)] for i in range(0, len(body), 1 << 20)]) if chunked else body
    refused = client.post(f"/admin/products/{product_id}/media", content=content,
                          headers={**auth, "Content-Type": content_type})
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/" + problem)
    if status == 413:
        assert refused.json()["limit"] == 20 * 1024 * 1024
    assert files_of(data_dir, product_id) == []
    assert client.get(f"/admin/products/{product_id}/media", headers=auth).json()["images"] == []
    assert await image_events(engine, product_id) == 0


async def test_staff_arrange_a_gallery_and_a_removed_images_files_are_deleted(client, engine, unique, data_dir) -> None:
    product_id, slug, auth = await a_product(client, engine, unique, "Chair")
    base = f"/admin/products/{product_id}/media"
    ids = [client.post(base, content=png(500, 400), headers={**auth, "Content-Type": "image/png"}).json()["id"]
           for _ in range(2)]
    worker = Worker(engine, data_dir)
    await worker.run(product_id)

    reordered = client.put(f"{base}/order", headers=auth, json={"image_ids": ids[::-1]})
    assert [i["id"] for i in reordered.json()["images"]] == ids[::-1]
    described = client.patch(f"{base}/{ids[0]}", headers=auth, json={"alt": "Seat", "skus": [f"CHAIR-{unique}"]})
    assert described.status_code == 200, described.text
    assert client.patch(f"{base}/{ids[0]}", headers=auth, json={"skus": ["NOT-ITS-SKU"]}).status_code == 422
    assert client.put(f"{base}/order", headers=auth, json={"image_ids": ids[:1]}).status_code == 422
    await worker.run(product_id)
    shown = client.get(f"/store/products/{slug}").json()["media"]
    assert [(i["id"], i["alt"], i["skus"]) for i in shown] == [(ids[1], "", []), (ids[0], "Seat", [f"CHAIR-{unique}"])]

    removed = client.delete(f"{base}/{ids[0]}", headers=auth)
    assert [i["id"] for i in removed.json()["images"]] == [ids[1]]
    await worker.run(product_id)
    assert not (data_dir / "media" / "products" / product_id / ids[0]).exists()
    assert [i["id"] for i in client.get(f"/store/products/{slug}").json()["media"]] == [ids[1]]
    gone = client.delete(f"{base}/{ids[0]}", headers=auth)
    assert (gone.status_code, gone.json()["type"].split("/")[-1]) == (404, "image-not-found")
