"""In-memory search index and merchandising store: the reference the contract suite pins."""

from __future__ import annotations

from collections import Counter
from typing import Any

from adapters.memory.database import MemoryDatabase
from application.search.documents import SearchDocument
from application.search.ports import MARK_END, MARK_START, IndexQuery, IndexResult, SearchHit
from application.search.text import plan, synonym_map, words
from domain.search.merchandising import MerchandisingRule, Redirect, SynonymGroup
from domain.shared.errors import Conflict

_FIELDS = (("name", 3.0), ("keywords", 2.0), ("description", 1.0))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (limit + 1) once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def typos_allowed(word: str) -> int:
    return 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0


def _word_score(wanted: str, candidates: list[str], *, prefix: bool) -> float:
    best = 0.0
    for word in candidates:
        if word == wanted:
            return 1.0
        if prefix and len(wanted) >= 2 and word.startswith(wanted):
            best = max(best, 0.9)
        elif typos_allowed(wanted) and edit_distance(wanted, word, typos_allowed(wanted)) <= typos_allowed(wanted):
            best = max(best, 0.7)
    return best


class MemorySearchIndex:
    def __init__(self) -> None:
        self.documents: dict[str, SearchDocument] = {}
        self.synonyms: list[SynonymGroup] = []
        self._written: dict[str, int] = {}
        self._clock = 0

    async def upsert(self, documents: list[SearchDocument], *, wait: bool = False) -> None:
        self._clock += 1
        self.documents.update({d.id: d for d in documents})
        self._written.update({d.id: self._clock for d in documents})

    async def mark(self) -> str:
        self._clock += 1
        return str(self._clock)

    async def sweep(self, mark: str) -> None:
        await self.delete([p for p, written in self._written.items() if written < int(mark)])

    async def delete(self, product_ids: list[str], *, wait: bool = False) -> None:
        for product_id in product_ids:
            self.documents.pop(product_id, None)
            self._written.pop(product_id, None)

    async def clear(self) -> None:
        self.documents.clear()
        self._written.clear()

    async def set_synonyms(self, groups: list[SynonymGroup]) -> None:
        self.synonyms = list(groups)

    async def count(self) -> int:
        return len(self.documents)

    def _fields(self, doc: SearchDocument) -> dict[str, list[str]]:
        return {"name": words(doc.name), "keywords": words(doc.keywords()), "description": words(doc.description)}

    def _score(self, doc: SearchDocument, query: IndexQuery) -> float:
        positions = plan(query.text, synonym_map(self.synonyms))
        if not positions:
            return 1.0
        fields = self._fields(doc)
        total, matched = 0.0, 0
        for n, alternatives in enumerate(positions):
            last = n == len(positions) - 1
            best = 0.0
            for alternative in alternatives:
                for field, weight in _FIELDS:
                    parts = alternative.split()
                    scores = [_word_score(w, fields[field], prefix=last and k == len(parts) - 1)
                              for k, w in enumerate(parts)]
                    if all(scores):
                        best = max(best, weight * min(scores))
            total += best
            matched += best > 0
        if matched == 0 or (not query.relaxed and matched < len(positions)):
            return 0.0
        return total

    def _filtered(self, doc: SearchDocument, query: IndexQuery) -> bool:
        price = doc.prices.get(query.currency)
        if query.category_id is not None and query.category_id not in doc.category_ids:
            return False
        if any(f"{k}={v}" not in doc.tokens() for k, v in query.attributes.items()):
            return False
        if query.min_price is not None and (price is None or price < query.min_price):
            return False
        if query.max_price is not None and (price is None or price > query.max_price):
            return False
        return query.in_stock is None or doc.in_stock == query.in_stock

    def _hit(self, doc: SearchDocument, currency: str, text: str = "") -> SearchHit:
        highlight = None
        if text:
            wanted = set(words(text))
            highlight = " ".join(f"{MARK_START}{w}{MARK_END}" if w.lower() in wanted else w
                                 for w in doc.name.split(" "))
        return SearchHit(id=doc.id, slug=doc.slug, name=doc.name, price=doc.prices.get(currency), currency=currency,
                         in_stock=doc.in_stock, category_ids=list(doc.category_ids), highlight=highlight)

    async def search(self, query: IndexQuery) -> IndexResult:
        scored = [(self._score(d, query), d) for d in self.documents.values() if self._filtered(d, query)]
        matches = [(s, d) for s, d in scored if s > 0]
        key: Any
        if query.sort in ("price_asc", "price_desc"):
            missing = 1 << 62 if query.sort == "price_asc" else -1
            sign = 1 if query.sort == "price_asc" else -1
            key = lambda sd: (sign * (sd[1].prices.get(query.currency, missing)), sd[1].id)  # noqa: E731
        elif query.sort == "newest":
            key = lambda sd: tuple(-ord(c) for c in sd[1].id)  # noqa: E731
        elif query.sort == "bestselling":
            key = lambda sd: (-sd[1].sold, sd[1].id)  # noqa: E731
        else:
            key = lambda sd: (-sd[0], -sd[1].sold, sd[1].id)  # noqa: E731
        matches.sort(key=key)
        facets: dict[str, dict[str, int]] = {}
        if query.facets:
            counters: dict[str, Counter[str]] = {"category": Counter(), "in_stock": Counter()}
            for _, doc in matches:
                counters["category"].update(doc.category_ids)
                counters["in_stock"][str(doc.in_stock).lower()] += 1
                for token in doc.facet_tokens():
                    name, _, value = token.partition("=")
                    counters.setdefault(f"attr.{name}", Counter())[value] += 1
            facets = {k: dict(c) for k, c in counters.items() if c}
        page = matches[query.offset : query.offset + query.limit]
        text = query.text if query.highlight else ""
        return IndexResult(hits=[self._hit(d, query.currency, text) for _, d in page], total=len(matches),
                           facets=facets)

    async def fetch(self, product_ids: list[str], *, currency: str) -> list[SearchHit]:
        return [self._hit(self.documents[p], currency) for p in product_ids if p in self.documents]

    async def suggest(self, prefix: str, *, limit: int) -> list[str]:
        query = IndexQuery(text=prefix, sort="bestselling", limit=limit, facets=False)
        return [h.name for h in (await self.search(query)).hits]


class MemoryMerchandising:
    def __init__(self, data: MemoryDatabase) -> None:
        self._store: dict[str, dict[str, Any]] = data.extra.setdefault(
            "merchandising", {"synonyms": {}, "rules": {}, "redirects": {}}
        )

    async def synonym_groups(self) -> list[SynonymGroup]:
        return list(self._store["synonyms"].values())

    async def add_synonym_group(self, group: SynonymGroup) -> None:
        self._store["synonyms"][group.id] = group

    async def remove_synonym_group(self, group_id: str) -> bool:
        return self._store["synonyms"].pop(group_id, None) is not None

    async def rules(self) -> list[MerchandisingRule]:
        return list(self._store["rules"].values())

    async def add_rule(self, rule: MerchandisingRule) -> None:
        self._store["rules"][rule.id] = rule

    async def remove_rule(self, rule_id: str) -> bool:
        return self._store["rules"].pop(rule_id, None) is not None

    async def redirects(self) -> list[Redirect]:
        return list(self._store["redirects"].values())

    async def add_redirect(self, redirect: Redirect) -> None:
        if any(r.query == redirect.query for r in self._store["redirects"].values()):
            raise Conflict(f"a redirect for {redirect.query!r} exists")
        self._store["redirects"][redirect.id] = redirect

    async def remove_redirect(self, redirect_id: str) -> bool:
        return self._store["redirects"].pop(redirect_id, None) is not None
