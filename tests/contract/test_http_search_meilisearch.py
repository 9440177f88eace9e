"""The storefront search wired to Meilisearch by settings (EMPORIUM_SEARCH_BACKEND=meilisearch)."""

from __future__ import annotations

import pytest

from adapters.meilisearch.index import MeilisearchSearchIndex
from application.search.documents import SearchDocument
from tests.support.http_app import client_for, settings_for
from tests.support.waiting import GENEROUS


@pytest.fixture
def meili_client(meilisearch, database_url, redis_url, unique):
    if isinstance(meilisearch, str):
        pytest.skip(meilisearch)
    settings = settings_for(database_url, redis_url, search_backend="meilisearch", meilisearch_url=meilisearch.url,
                            meilisearch_key=meilisearch.master_key, meilisearch_index=f"http_{unique}")
    with client_for(settings) as client:
        yield client


async def test_search_and_suggest_answer_from_meilisearch(meili_client, meilisearch, unique) -> None:
    index = MeilisearchSearchIndex(meilisearch.url, api_key=meilisearch.master_key, index=f"http_{unique}",
                                   timeout=GENEROUS)
    try:
        await index.upsert([SearchDocument(id=f"m-{unique}", slug=f"m-{unique}", name="Alpine Running Shoes",
                                           category_ids=["shoes"], prices={"EUR": 9900})], wait=True)
        body = meili_client.get("/store/search", params={"q": "alpine runing", "min_price": 100}).json()
        assert [h["id"] for h in body["hits"]] == [f"m-{unique}"]
        assert body["hits"][0]["highlight"].startswith("<mark>Alpine</mark>")
        suggestions = meili_client.get("/store/search/suggest", params={"q": "alpi"}).json()["suggestions"]
        assert suggestions == ["Alpine Running Shoes"]
    finally:
        await index.drop()
        await index.close()
