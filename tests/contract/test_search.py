"""One search contract (``SearchIndexContract``), pinned on the fake, PostgreSQL full text and a real Meilisearch."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.meilisearch.index import MeilisearchSearchIndex
from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.search import MemorySearchIndex
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from adapters.postgres.engine import make_engine
from adapters.postgres.search import PostgresSearchIndex
from application.search import merchandising as m
from application.search.documents import SearchDocument
from application.search.ports import MARK_END, MARK_START, IndexQuery
from application.search.queries import SearchRequest, search, suggest
from domain.search.merchandising import SynonymGroup
from tests.support.waiting import GENEROUS


def doc(n: int, name: str, category: str, colour: str, price: int, *, sold: int, in_stock: bool = True,
        description: str = "") -> SearchDocument:
    return SearchDocument(id=f"p{n:02d}", slug=f"item-{n}", name=name, description=description,
                          category_ids=[category], attributes={"colour": [colour]}, prices={"EUR": price},
                          in_stock=in_stock, sold=sold)


SHELF = [
    doc(1, "Trail Running Shoes", "shoes", "red", 8000, sold=50, description="Grippy soles for muddy trails"),
    doc(2, "Road Running Shoes", "shoes", "blue", 12000, sold=10, description="Light and cushioned"),
    doc(3, "Leather Dress Shoes", "shoes", "black", 15000, sold=5, in_stock=False, description="For weddings"),
    doc(4, "Running Socks", "socks", "red", 1500, sold=100, description="Breathable merino"),
    doc(5, "Wool Hiking Socks", "socks", "grey", 2000, sold=30, description="Warm for winter walks"),
    doc(6, "Trail Gaiters", "accessories", "black", 3000, sold=200, description="Keep stones out of your shoes"),
    doc(7, "Rain Jacket", "jackets", "blue", 9000, sold=20, description="Waterproof shell"),
]


@pytest.fixture
async def shelf(search_index):
    await search_index.upsert(SHELF, wait=True)
    return search_index


async def ids(index, **query) -> list[str]:
    return [h.id for h in (await index.search(IndexQuery(**query))).hits]


class Collected:
    def __init__(self) -> None:
        self.events = []

    async def submit(self, events) -> None:
        self.events.extend(events)


@pytest.fixture
def merch():
    database = MemoryDatabase()
    return lambda: MemoryUnitOfWork(database, SequentialIds())


async def run(index, merch, log=None, **request):
    return await search(SearchRequest(**request), index=index, uow=merch, log=log, clock=FakeClock(),
                        ids=SequentialIds())


class SearchIndexContract:
    """What every SearchIndex does alike. A subclass provides ``search_index``: an empty index of its kind."""

    @pytest.fixture
    def search_index(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_name_matches_rank_above_description_matches(self, shelf) -> None:
        found = await ids(shelf, text="shoes")
        assert set(found[:3]) == {"p01", "p02", "p03"}
        assert found[3:] == ["p06"]

    async def test_every_word_must_match(self, shelf) -> None:
        assert set(await ids(shelf, text="running shoes")) == {"p01", "p02"}

    async def test_a_typo_still_finds_running_shoes(self, shelf) -> None:
        assert set(await ids(shelf, text="runing shoes")) == {"p01", "p02"}

    async def test_prefix_suggests_names_as_the_shopper_types(self, shelf) -> None:
        assert {"Trail Running Shoes", "Road Running Shoes", "Running Socks"} <= set(await suggest("runn", index=shelf))
        completed = await suggest("trail run", index=shelf)
        assert "Trail Running Shoes" in completed
        assert "Road Running Shoes" not in completed

    async def test_synonyms_expand_a_query(self, shelf) -> None:
        assert await ids(shelf, text="sneakers") == []
        await shelf.set_synonyms([SynonymGroup(id="g1", terms=("sneakers", "running shoes"))])
        assert set(await ids(shelf, text="sneakers")) == {"p01", "p02"}

    async def test_facets_count_every_match(self, shelf) -> None:
        result = await shelf.search(IndexQuery(category_id="shoes"))
        assert result.total == 3
        assert result.facets["attr.colour"] == {"red": 1, "blue": 1, "black": 1}
        assert result.facets["in_stock"] == {"true": 2, "false": 1}
        assert (await shelf.search(IndexQuery(text="running"))).facets["category"] == {"shoes": 2, "socks": 1}

    async def test_a_typed_product_facets_and_filters_as_its_definitions_say(self, search_index) -> None:
        jacket = SearchDocument(id="t01", slug="storm", name="Storm Jacket", category_ids=["jackets"],
                                attributes={"season": ["winter"], "weight_kg": ["0.85"], "fabric": ["gore"]},
                                filterable=["season", "weight_kg"], facetable=["season"], prices={"EUR": 100})
        untyped = doc(8, "Old Jacket", "jackets", "green", 200, sold=1)
        await search_index.upsert([jacket, untyped], wait=True)
        facets = (await search_index.search(IndexQuery(category_id="jackets"))).facets
        assert facets["attr.season"] == {"winter": 1}
        assert facets["attr.colour"] == {"green": 1}  # untyped: every attribute, as before
        assert "attr.weight_kg" not in facets
        assert "attr.fabric" not in facets
        assert await ids(search_index, attributes={"weight_kg": "0.85"}) == ["t01"]  # filterable, not a facet
        assert await ids(search_index, attributes={"fabric": "gore"}) == []  # neither: only words to search
        assert await ids(search_index, text="gore") == ["t01"]

    async def test_filters_by_category_attribute_price_and_stock(self, shelf) -> None:
        found = await ids(shelf, category_id="shoes", min_price=5000, max_price=13000, in_stock=True)
        assert set(found) == {"p01", "p02"}
        assert await ids(shelf, category_id="shoes", attributes={"colour": "red"}) == ["p01"]
        assert await ids(shelf, text="socks", max_price=1800) == ["p04"]
        assert await ids(shelf, category_id="shoes", in_stock=False) == ["p03"]
        assert await ids(shelf, text="shoes", currency="USD", min_price=1) == []

    async def test_sorts_and_pages(self, shelf) -> None:
        assert await ids(shelf, category_id="shoes", sort="price_asc") == ["p01", "p02", "p03"]
        assert await ids(shelf, category_id="shoes", sort="price_desc") == ["p03", "p02", "p01"]
        assert await ids(shelf, sort="bestselling", limit=3) == ["p06", "p04", "p01"]
        assert await ids(shelf, sort="newest", limit=2) == ["p07", "p06"]
        assert await ids(shelf, sort="newest", limit=2, offset=2) == ["p05", "p04"]
        past_the_end = await shelf.search(IndexQuery(sort="newest", limit=5, offset=10))
        assert (past_the_end.hits, past_the_end.total) == ([], 7)

    async def test_matches_are_highlighted(self, shelf) -> None:
        hit = (await shelf.search(IndexQuery(text="gaiters", highlight=True))).hits[0]
        assert hit.highlight is not None
        assert f"{MARK_START}Gaiters{MARK_END}" in hit.highlight

    async def test_a_sweep_removes_what_was_not_rewritten_since_the_mark(self, shelf) -> None:
        mark = await shelf.mark()
        await shelf.upsert([d for d in SHELF if d.id != "p07"], wait=True)
        await shelf.sweep(mark)
        assert await shelf.count() == 6
        assert await ids(shelf, text="jacket") == []

    async def test_removed_documents_are_not_found(self, shelf) -> None:
        await shelf.delete(["p07"], wait=True)
        assert await ids(shelf, text="jacket") == []
        assert await shelf.count() == 6

    # Through the storefront use case: merchandising rules and rescue work the same on every engine.

    async def test_pins_boosts_and_burials_rearrange_a_query(self, shelf, merch) -> None:
        ids_ = SequentialIds()
        await m.add_rule(m.AddRule(kind="pin", query="Shoes", product_ids=["p07"]), uow=merch, ids=ids_)
        await m.add_rule(m.AddRule(kind="boost", query="shoes", product_ids=["p03"]), uow=merch, ids=ids_)
        await m.add_rule(m.AddRule(kind="bury", query="shoes", product_ids=["p01"]), uow=merch, ids=ids_)
        result = await run(shelf, merch, q="shoes")
        order = [h.id for h in result.hits]
        assert order[:2] == ["p07", "p03"]
        assert order[-1] == "p01"
        assert result.total == 5
        untouched = await run(shelf, merch, q="socks")
        assert "p07" not in [h.id for h in untouched.hits]

    async def test_category_rules_apply_when_browsing(self, shelf, merch) -> None:
        await m.add_rule(m.AddRule(kind="pin", category_id="socks", product_ids=["p05"]), uow=merch,
                         ids=SequentialIds())
        result = await run(shelf, merch, category_id="socks")
        assert [h.id for h in result.hits] == ["p05", "p04"]

    async def test_a_query_that_matches_only_in_part_is_relaxed(self, shelf, merch) -> None:
        result = await run(shelf, merch, q="running unicorn")
        assert result.rescue is not None
        assert result.rescue.strategy == "relaxed_query"
        assert {"p01", "p02", "p04"} <= {h.id for h in result.hits}

    async def test_filters_are_dropped_one_by_one_until_something_matches(self, shelf, merch) -> None:
        result = await run(shelf, merch, q="runing shoes", category_id="shoes", max_price=100, in_stock=True)
        assert result.rescue is not None
        assert (result.rescue.strategy, result.rescue.dropped_filters) == ("dropped_filters", ["in_stock", "price"])
        assert {"p01", "p02"} <= {h.id for h in result.hits}

    async def test_nothing_matching_falls_back_to_popular_products_in_the_category(self, shelf, merch) -> None:
        log = Collected()
        result = await run(shelf, merch, log=log, q="xyzzy", category_id="socks")
        assert result.rescue is not None
        assert result.rescue.strategy == "popular_in_category"
        assert [h.id for h in result.hits] == ["p04", "p05"]
        anywhere = await run(shelf, merch, q="xyzzy")
        assert anywhere.rescue is not None
        assert anywhere.rescue.strategy == "popular"
        assert anywhere.hits[0].id == "p06"
        assert log.events[0].properties["results"] == 0
        assert log.events[0].properties["rescue"] == "popular_in_category"

    async def test_highlights_are_escaped_html(self, search_index, merch) -> None:
        tent = doc(9, "Tent <script>alert(1)</script>", "camping", "green", 100, sold=0)
        await search_index.upsert([tent], wait=True)
        [hit] = (await run(search_index, merch, q="tent")).hits
        assert hit.highlight is not None
        assert hit.highlight.startswith("<mark>Tent</mark> &lt;script&gt;")

    async def test_a_redirect_answers_before_searching(self, shelf, merch) -> None:
        await m.add_redirect(m.AddRedirect(query="Returns", url="/pages/returns"), uow=merch, ids=SequentialIds())
        result = await run(shelf, merch, q="  returns ")
        assert (result.redirect, result.hits) == ("/pages/returns", [])


class TestMemorySearchIndex(SearchIndexContract):
    @pytest.fixture
    def search_index(self) -> MemorySearchIndex:
        return MemorySearchIndex()


class TestPostgresSearchIndex(SearchIndexContract):
    @pytest.fixture
    async def search_index(self, database_url) -> AsyncIterator[PostgresSearchIndex]:
        """The test database's index, cleared."""
        engine = make_engine(database_url, pool_size=2)
        index = PostgresSearchIndex(engine)
        await index.clear()
        await index.set_synonyms([])
        try:
            yield index
        finally:
            await engine.dispose()


class TestMeilisearchSearchIndex(SearchIndexContract):
    @pytest.fixture
    async def search_index(self, meilisearch) -> AsyncIterator[MeilisearchSearchIndex]:
        """A new index on the run's server (skipped, saying why, when there is none)."""
        if isinstance(meilisearch, str):
            pytest.skip(meilisearch)
        index = MeilisearchSearchIndex(meilisearch.url, api_key=meilisearch.master_key,
                                       index=f"test_{uuid.uuid4().hex[:12]}",
                                       timeout=GENEROUS)  # per HTTP request; a busy machine answers late, not never
        try:
            yield index
        finally:
            await index.drop()
            await index.close()
