"""The edge's pieces that need no Varnish: the surrogate keys documents carry and changes purge, purges in
batches that fit a request header, the site configuration `emporium edge` writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.http.cdn import HEADER_BUDGET, MAX_KEYS, batches
from adapters.memory.cdn import RecordingCdnPurger
from application.catalog.cdn import listing_keys, product_keys, purge_on_structure_changes
from domain.catalog.categories import CategoryTreeChanged
from domain.catalog.collections import CollectionChanged
from domain.catalog.pricing import PriceListChanged
from entrypoints.cli.edge import EdgeConfig, site_vcl
from entrypoints.cli.services import ServiceError

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_product_change_purges_its_pages_its_categories_and_the_whole_catalogs_listings() -> None:
    assert product_keys("p1", ["shoes", "sale"]) == ["product-p1", "category-shoes", "category-sale", "products"]
    assert product_keys("p1") == ["product-p1", "products"]


def test_a_listing_carries_each_product_it_shows_and_its_scope() -> None:
    assert listing_keys(["a", "b", "a"]) == ["products", "product-a", "product-b"]
    # a category page: the tree's key (it shows the node) and the category's, not the whole catalog's
    assert listing_keys([], category_id="hats") == ["categories", "category-hats"]


async def test_a_tree_or_collection_change_purges_the_tree_or_that_collection_alone() -> None:
    purger = RecordingCdnPurger()
    handle = purge_on_structure_changes(purger)
    tree = CategoryTreeChanged(aggregate_id="categories", aggregate_version=2, occurred_at=NOW, categories=())
    winter = CollectionChanged(aggregate_id="c9", aggregate_version=1, occurred_at=NOW, name="Winter",
                               slug="winter", product_ids=())
    await handle([tree, winter, tree], None)  # type: ignore[arg-type]
    prices = PriceListChanged(aggregate_id="pl", aggregate_version=1, occurred_at=NOW, currency="EUR", channel=None,
                              skus=())
    await handle([prices], None)  # type: ignore[arg-type]
    assert purger.purged == [["categories", "collection-c9"]]


def test_purges_go_in_batches_that_fit_a_request_header_and_keep_every_key_in_order() -> None:
    keys = [f"product-{n:026d}" for n in range(1000)]
    sent = list(batches(keys))
    assert [k for batch in sent for k in batch] == keys
    assert all(len(" ".join(batch)) <= HEADER_BUDGET and len(batch) <= MAX_KEYS for batch in sent)
    assert len(" ".join(sent[0])) + 1 + len(sent[1][0]) > HEADER_BUDGET  # each batch as full as it may be
    assert list(batches([])) == []
    assert [len(b) for b in batches(["k"] * 600, budget=10_000)] == [MAX_KEYS, MAX_KEYS, 600 - 2 * MAX_KEYS]


def _config(**overrides: object) -> EdgeConfig:
    fields = {"port": 6081, "backend_host": "127.0.0.1", "backend_port": 8000, "workdir": Path("/tmp/edge"),
              "purge_token": "s3cret", "purgers": ("127.0.0.1", "10.1.0.0/16")}
    return EdgeConfig(**(fields | overrides))  # type: ignore[arg-type]


def test_the_site_configuration_names_the_api_the_purgers_and_the_token() -> None:
    vcl = site_vcl(_config())
    assert '.host = "127.0.0.1";' in vcl
    assert '.port = "8000";' in vcl
    assert '"10.1.0.0"/16;' in vcl
    assert 'req.http.Authorization != "Bearer s3cret"' in vcl
    assert "no purge token" in site_vcl(_config(purge_token=""))
    assert _config(management_port=7000).admin_port == 7000
    assert _config().admin_port == 6082


@pytest.mark.parametrize("overrides", [{"purge_token": 'x" || "'}, {"backend_host": "a}b"},
                                       {"purgers": ("not-an-address",)}])
def test_a_value_that_would_change_the_configuration_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises((ServiceError, ValueError)):
        site_vcl(_config(**overrides))
