"""The search ports: the index (PostgreSQL or Meilisearch) and the merchandising store."""

from __future__ import annotations

from typing import Protocol

import msgspec

from application.ports.unit_of_work import UnitOfWork
from application.search.documents import SearchDocument
from domain.search.merchandising import MerchandisingRule, Redirect, SynonymGroup

SORTS = ("relevance", "price_asc", "price_desc", "newest", "bestselling")
# Engines mark matches with control characters, never with HTML: a product name is text, and the
# storefront answer escapes it before turning these marks into <mark> tags.
MARK_START = "\x02"
MARK_END = "\x03"


class IndexQuery(msgspec.Struct, frozen=True, kw_only=True):
    """One engine query. ``relaxed`` lets any word match (and allows more typos where the engine can)."""

    text: str = ""
    category_id: str | None = None
    attributes: dict[str, str] = {}
    currency: str = "EUR"
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    sort: str = "relevance"
    offset: int = 0
    limit: int = 24
    facets: bool = True
    relaxed: bool = False
    highlight: bool = False
    language: str = "english"


class SearchHit(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    slug: str
    name: str
    price: int | None
    currency: str
    in_stock: bool
    category_ids: list[str]
    highlight: str | None = None  # the name with matches between MARK_START and MARK_END, where supported


class IndexResult(msgspec.Struct, frozen=True, kw_only=True):
    hits: list[SearchHit]
    total: int
    facets: dict[str, dict[str, int]] = {}  # "category", "in_stock", "attr.<name>" -> value -> count


class SearchIndex(Protocol):
    """Where products are searched. Upserts are whole documents, so replays are harmless."""

    async def upsert(self, documents: list[SearchDocument], *, wait: bool = False) -> None:
        """Add or replace documents (batched by the adapter); ``wait`` until they are searchable."""
        ...

    async def delete(self, product_ids: list[str], *, wait: bool = False) -> None:
        """Remove documents; unknown ids are ignored."""
        ...

    async def clear(self) -> None:
        """Remove every document (before a full rebuild), keeping settings and synonyms."""
        ...

    async def mark(self) -> str:
        """A point in the index's own time; documents written later are newer than it (see ``sweep``)."""
        ...

    async def sweep(self, mark: str) -> None:
        """Remove documents not written since ``mark``: what a rebuild left over. Waits until done."""
        ...

    async def set_synonyms(self, groups: list[SynonymGroup]) -> None:
        """Replace the synonym groups the engine expands queries with; effective on return."""
        ...

    async def search(self, query: IndexQuery) -> IndexResult:
        """Hits for one page, the total and (if asked) facet counts over every match."""
        ...

    async def fetch(self, product_ids: list[str], *, currency: str) -> list[SearchHit]:
        """Hits for these ids, in the order given (pins); unknown ids are skipped."""
        ...

    async def suggest(self, prefix: str, *, limit: int) -> list[str]:
        """Product names completing what the shopper has typed so far."""
        ...

    async def count(self) -> int: ...


class MerchandisingStore(Protocol):
    async def synonym_groups(self) -> list[SynonymGroup]: ...

    async def add_synonym_group(self, group: SynonymGroup) -> None: ...

    async def remove_synonym_group(self, group_id: str) -> bool: ...

    async def rules(self) -> list[MerchandisingRule]: ...

    async def add_rule(self, rule: MerchandisingRule) -> None: ...

    async def remove_rule(self, rule_id: str) -> bool: ...

    async def redirects(self) -> list[Redirect]: ...

    async def add_redirect(self, redirect: Redirect) -> None:
        """A second redirect for the same query is a Conflict."""
        ...

    async def remove_redirect(self, redirect_id: str) -> bool: ...


class MerchandisingUnitOfWork(UnitOfWork, Protocol):
    merchandising: MerchandisingStore
