"""PostgreSQL reads each document and query in a language's text search configuration."""

from __future__ import annotations

from adapters.postgres.engine import make_engine
from adapters.postgres.search import PostgresSearchIndex
from application.search.documents import SearchDocument
from application.search.ports import IndexQuery


async def test_a_german_document_is_found_by_another_form_of_its_words(database_url, unique) -> None:
    engine = make_engine(database_url, pool_size=2)
    index = PostgresSearchIndex(engine)
    try:
        await index.upsert([SearchDocument(id=f"de-{unique}", slug=f"de-{unique}", name="Schuhe für Kinder",
                                           category_ids=[f"de-{unique}"], language="german")])
        german = IndexQuery(text="kindern", category_id=f"de-{unique}", language="german")
        assert [h.id for h in (await index.search(german)).hits] == [f"de-{unique}"]
        unknown = IndexQuery(text="kind", category_id=f"de-{unique}", language="klingon")  # read as "simple", no error
        assert (await index.search(unknown)).total == 1
    finally:
        await index.delete([f"de-{unique}"])
        await engine.dispose()
