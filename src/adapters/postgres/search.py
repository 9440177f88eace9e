"""PostgreSQL full-text search behind the ``SearchIndex`` port.

Documents live in ``search.documents`` with a weighted ``tsvector`` built in each document's
language configuration (name A, attribute values and categories B, description C); filters match
``attr_tokens`` (the filterable attributes), facets count ``facet_tokens`` (the facetable ones). Typos and
prefixes are resolved against ``search.terms``, the indexed vocabulary, with pg_trgm: a word the
vocabulary does not hold is replaced by its nearest trigram neighbours, and the last word is also
completed by prefix. Facets are counted in the same statement as the page.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from application.search.documents import SearchDocument
from application.search.ports import MARK_END, MARK_START, IndexQuery, IndexResult, SearchHit
from application.search.text import plan, query_words, synonym_map, words
from domain.search.merchandising import SynonymGroup

# PostgreSQL's built-in text search configurations: a language outside this set searches as "simple".
LANGUAGES = frozenset({
    "simple", "arabic", "armenian", "basque", "catalan", "danish", "dutch", "english", "finnish", "french",
    "german", "greek", "hindi", "hungarian", "indonesian", "irish", "italian", "lithuanian", "nepali", "norwegian",
    "portuguese", "romanian", "russian", "serbian", "spanish", "swedish", "tamil", "turkish", "yiddish",
})
STRICT_SIMILARITY = 0.3  # pg_trgm's default threshold
RELAXED_SIMILARITY = 0.2
TYPO_CANDIDATES = 3
PREFIX_CANDIDATES = 5

_UPSERT = text("""
INSERT INTO search.documents (id, slug, name, description, keywords, language, category_ids, attr_tokens,
                              facet_tokens, prices, in_stock, sold, updated_at)
VALUES (:id, :slug, :name, :description, :keywords, CAST(:language AS regconfig), :category_ids, :attr_tokens,
        :facet_tokens, CAST(:prices AS jsonb), :in_stock, :sold, now())
ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, name = excluded.name, description = excluded.description,
    keywords = excluded.keywords, language = excluded.language, category_ids = excluded.category_ids,
    attr_tokens = excluded.attr_tokens, facet_tokens = excluded.facet_tokens, prices = excluded.prices,
    in_stock = excluded.in_stock,
    sold = excluded.sold, updated_at = now()
""")

_SORTS = {
    "relevance": "rank DESC, sold DESC, id DESC",
    "price_asc": "price ASC NULLS LAST, id ASC",
    "price_desc": "price DESC NULLS LAST, id ASC",
    "newest": "id DESC",
    "bestselling": "sold DESC, id DESC",
}


def _config(language: str) -> str:
    return language if language in LANGUAGES else "simple"


class PostgresSearchIndex:
    def __init__(self, engine: AsyncEngine, *, batch_size: int = 1000) -> None:
        self._engine = engine
        self._batch = batch_size

    async def upsert(self, documents: list[SearchDocument], *, wait: bool = False) -> None:
        # Committed on return: PostgreSQL is searchable as soon as the transaction ends, so ``wait`` is moot.
        for start in range(0, len(documents), self._batch):
            batch = documents[start : start + self._batch]
            vocabulary = sorted({w for d in batch for w in words(f"{d.name} {d.keywords()} {d.description}")
                                 if 3 <= len(w) <= 40 and not w.isdigit()})
            async with self._engine.begin() as conn:
                await conn.execute(_UPSERT, [
                    {"id": d.id, "slug": d.slug, "name": d.name, "description": d.description,
                     "keywords": d.keywords(), "language": _config(d.language), "category_ids": d.category_ids,
                     "attr_tokens": d.tokens(), "facet_tokens": d.facet_tokens(),
                     "prices": msgspec.json.encode(d.prices).decode(),
                     "in_stock": d.in_stock, "sold": d.sold}
                    for d in batch
                ])
                await conn.execute(
                    text("INSERT INTO search.terms (term) SELECT unnest(CAST(:terms AS text[])) "
                         "ON CONFLICT DO NOTHING"), {"terms": vocabulary},
                )

    async def delete(self, product_ids: list[str], *, wait: bool = False) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(text("DELETE FROM search.documents WHERE id = ANY(:ids)"), {"ids": product_ids})

    async def clear(self) -> None:
        # TRUNCATE, not DELETE: a rebuild after DELETE searches through every dead row until a vacuum
        # (measured at 100k documents: p95 64 ms against 28 ms).
        async with self._engine.begin() as conn:
            await conn.execute(text("TRUNCATE search.documents, search.terms"))

    async def mark(self) -> str:
        # The database's clock, the one ``updated_at`` is written with: no skew between hosts.
        async with self._engine.connect() as conn:
            return str(await conn.scalar(text("SELECT clock_timestamp()::text")))

    async def sweep(self, mark: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(text("DELETE FROM search.documents WHERE updated_at < CAST(:mark AS timestamptz)"),
                               {"mark": mark})

    async def set_synonyms(self, groups: list[SynonymGroup]) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(text("DELETE FROM search.synonyms"))
            if groups:
                await conn.execute(text("INSERT INTO search.synonyms (id, terms) VALUES (:id, :terms)"),
                                   [{"id": g.id, "terms": list(g.terms)} for g in groups])

    async def analyze(self) -> None:
        """Refresh planner statistics (after a bulk load)."""
        async with self._engine.begin() as conn:
            await conn.execute(text("ANALYZE search.documents"))
            await conn.execute(text("ANALYZE search.terms"))

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int(await conn.scalar(text("SELECT count(*) FROM search.documents")) or 0)

    async def _lookup(
        self, conn: AsyncConnection, text_: str, relaxed: bool
    ) -> tuple[list[SynonymGroup], dict[str, list[str]], list[str]]:
        """In one round trip: the synonym groups, trigram neighbours of the query's words, and prefix
        completions of its last word, all from the indexed vocabulary.

        Neighbours must share the first letter: shoppers rarely mistype it, and without this rule long
        words drift to unrelated ones that merely share a run of trigrams."""
        tokens = query_words(text_)
        singles = sorted({w for w in tokens if len(w) >= 4 and not w.isdigit()})
        last = tokens[-1] if tokens and len(tokens[-1]) >= 2 else ""
        if relaxed:  # transaction-local; the strict threshold is PostgreSQL's default
            await conn.execute(text("SELECT set_config('pg_trgm.similarity_threshold', :s, true)"),
                               {"s": str(RELAXED_SIMILARITY)})
        rows = await conn.execute(text("""
            SELECT 'synonyms' AS kind, id AS key, terms FROM search.synonyms
            UNION ALL
            SELECT 'near', w, array_agg(t.term) FROM unnest(CAST(:words AS text[])) AS w CROSS JOIN LATERAL (
                SELECT term FROM search.terms WHERE term % w AND left(term, 1) = left(w, 1)
                ORDER BY term <-> w LIMIT :near) AS t GROUP BY w
            UNION ALL
            SELECT 'prefix', '', ARRAY(SELECT term FROM search.terms WHERE :prefix <> '%' AND term LIKE :prefix
                                       ORDER BY length(term), term LIMIT :completions)
        """), {"words": singles, "near": TYPO_CANDIDATES, "completions": PREFIX_CANDIDATES,
               "prefix": last.replace("\\", "").replace("%", "").replace("_", "") + "%"})
        synonyms, near, completions = [], {}, []
        for kind, key, terms in rows:
            if kind == "synonyms":
                synonyms.append(SynonymGroup(id=key, terms=tuple(terms)))
            elif kind == "near":
                near[key] = list(terms)
            else:
                completions = list(terms)
        return synonyms, near, completions

    async def _tsquery(self, conn: AsyncConnection, query: IndexQuery, params: dict[str, Any]) -> str | None:
        """The query as tsquery SQL: positions AND-ed (OR-ed when relaxed), alternatives OR-ed."""
        if not words(query.text):
            return None
        synonyms, near, completions = await self._lookup(conn, query.text, query.relaxed)
        positions = plan(query.text, synonym_map(synonyms))
        parts = []
        for n, alternatives in enumerate(positions):
            more = list(alternatives)
            for alternative in alternatives:
                if alternative not in near.get(alternative, [alternative]):  # not a known word: add neighbours
                    more += [t for t in near[alternative] if t not in more]
            if n == len(positions) - 1 and " " not in alternatives[0]:
                more += [c for c in completions if c not in more]
            names = []
            for k, alternative in enumerate(more):
                params[f"a{n}_{k}"] = alternative
                names.append(f"plainto_tsquery(CAST(:cfg AS regconfig), :a{n}_{k})")
            parts.append("(" + " || ".join(names) + ")")
        return (" || " if query.relaxed else " && ").join(parts)

    async def search(self, query: IndexQuery) -> IndexResult:
        params: dict[str, Any] = {"cfg": _config(query.language), "cur": query.currency, "limit": query.limit,
                                  "offset": query.offset,
                                  "headline": f'StartSel="{MARK_START}", StopSel="{MARK_END}", HighlightAll=true'}
        async with self._engine.connect() as conn:
            tsquery = await self._tsquery(conn, query, params)
            where = ["true"]
            source = "search.documents d"
            rank = "0::real"
            if tsquery is not None:
                source += f", ({'SELECT ' + tsquery} AS q) qq"
                where.append("d.tsv @@ qq.q")
                rank = "ts_rank_cd(d.tsv, qq.q)"
            if query.category_id is not None:
                where.append("d.category_ids @> ARRAY[CAST(:category AS text)]")
                params["category"] = query.category_id
            if query.attributes:
                where.append("d.attr_tokens @> CAST(:tokens AS text[])")
                params["tokens"] = [f"{k}={v}" for k, v in sorted(query.attributes.items())]
            if query.min_price is not None:
                where.append("(d.prices ->> :cur)::bigint >= :min_price")
                params["min_price"] = query.min_price
            if query.max_price is not None:
                where.append("(d.prices ->> :cur)::bigint <= :max_price")
                params["max_price"] = query.max_price
            if query.in_stock is not None:
                where.append("d.in_stock = :in_stock")
                params["in_stock"] = query.in_stock
            highlight = (
                "ts_headline(CAST(:cfg AS regconfig), m.name, m.q, :headline)"
                if tsquery is not None and query.highlight else "NULL"
            )
            facets = """
                SELECT 'category' AS facet, c AS value, count(*) AS n FROM matched, unnest(category_ids) AS c GROUP BY c
                UNION ALL SELECT 'attr', a, count(*) FROM matched, unnest(facet_tokens) AS a GROUP BY a
                UNION ALL SELECT 'in_stock', in_stock::text, count(*) FROM matched GROUP BY in_stock
            """ if query.facets else "SELECT NULL AS facet, NULL AS value, 0 AS n WHERE false"
            statement = f"""
                WITH matched AS MATERIALIZED (
                    SELECT d.id, d.slug, d.name, d.category_ids, d.facet_tokens, d.in_stock, d.sold,
                           (d.prices ->> :cur)::bigint AS price, {rank} AS rank
                           {', qq.q AS q' if tsquery is not None else ', NULL AS q'}
                    FROM {source} WHERE {' AND '.join(where)}
                ), page AS (
                    SELECT *, row_number() OVER () AS ord FROM (
                        SELECT * FROM matched ORDER BY {_SORTS.get(query.sort, _SORTS['relevance'])}
                        LIMIT :limit OFFSET :offset) AS p
                ), facets AS ({facets})
                SELECT (SELECT count(*) FROM matched) AS total,
                       (SELECT coalesce(json_agg(json_build_object(
                            'id', m.id, 'slug', m.slug, 'name', m.name, 'price', m.price, 'in_stock', m.in_stock,
                            'category_ids', m.category_ids, 'highlight', {highlight}) ORDER BY m.ord), '[]')
                        FROM page AS m) AS hits,
                       (SELECT coalesce(json_agg(json_build_array(facet, value, n)), '[]') FROM facets) AS facets
            """  # noqa: S608 - only fixed fragments are interpolated; every value is a bound parameter
            row = (await conn.execute(text(statement), params)).one()
        counts: dict[str, dict[str, int]] = {}
        for facet, value, n in row.facets:
            if facet == "attr":
                name, _, value = value.partition("=")
                facet = f"attr.{name}"
            counts.setdefault(facet, {})[value] = n
        hits = [SearchHit(currency=query.currency, **h) for h in row.hits]
        return IndexResult(hits=hits, total=int(row.total), facets=counts)

    async def fetch(self, product_ids: list[str], *, currency: str) -> list[SearchHit]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(text(
                "SELECT id, slug, name, (prices ->> :cur)::bigint AS price, in_stock, category_ids "
                "FROM search.documents WHERE id = ANY(:ids)"
            ), {"cur": currency, "ids": product_ids})
            found = {r.id: SearchHit(id=r.id, slug=r.slug, name=r.name, price=r.price, currency=currency,
                                     in_stock=r.in_stock, category_ids=list(r.category_ids)) for r in rows}
        return [found[p] for p in product_ids if p in found]

    async def suggest(self, prefix: str, *, limit: int) -> list[str]:
        result = await self.search(IndexQuery(text=prefix, sort="bestselling", limit=limit, facets=False))
        return [h.name for h in result.hits]
