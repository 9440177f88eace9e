"""The storefront search: redirects, merchandising rules, zero-result rescue and query logging."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

import msgspec

from application.analytics.ports import TrackingQueue
from application.ports.clock import Clock, IdGenerator
from application.search.errors import BadSearch
from application.search.ports import (
    MARK_END,
    MARK_START,
    SORTS,
    IndexQuery,
    IndexResult,
    MerchandisingUnitOfWork,
    SearchHit,
    SearchIndex,
)
from domain.analytics.tracking import Kind, TrackedEvent
from domain.search.merchandising import MerchandisingRule, arrange, normalise

logger = logging.getLogger(__name__)

MAX_PAGE = 1000
RULE_WINDOW = 200  # how many ranked hits rules may reorder


class Rescue(msgspec.Struct, frozen=True, kw_only=True):
    """How a query that found nothing was saved: ``relaxed_query`` (typos and any-word matching), ``dropped_filters``,
    ``popular_in_category`` or ``popular``."""

    strategy: str
    dropped_filters: list[str] = []
    category_id: str | None = None


class SearchRequest(msgspec.Struct, frozen=True, kw_only=True):
    q: str = ""
    category_id: str | None = None
    attributes: dict[str, str] = {}
    currency: str = "EUR"
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 24
    anonymous_id: str = "server"
    language: str = "english"  # the text search configuration queries are read in


class SearchResponse(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]]
    sort: str
    rescue: Rescue | None = None
    redirect: str | None = None


def html_highlight(marked: str | None) -> str | None:
    """The engine's marked name as safe HTML: escaped text with matches in <mark> tags."""
    if marked is None:
        return None
    return html.escape(marked).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def check_request(request: SearchRequest) -> None:
    if request.sort not in SORTS:
        raise BadSearch(f"sort must be one of {', '.join(SORTS)}")
    if request.min_price is not None and request.max_price is not None and request.min_price > request.max_price:
        raise BadSearch("min_price is above max_price")
    if not 1 <= request.page <= MAX_PAGE or not 1 <= request.per_page <= 100:
        raise BadSearch(f"page is 1 to {MAX_PAGE}, per_page 1 to 100")


def index_query(request: SearchRequest) -> IndexQuery:
    return IndexQuery(
        text=request.q, category_id=request.category_id, attributes=dict(request.attributes),
        currency=request.currency, min_price=request.min_price, max_price=request.max_price,
        in_stock=request.in_stock, sort=request.sort, offset=(request.page - 1) * request.per_page,
        limit=request.per_page, highlight=True, language=request.language,
    )


def _without(query: IndexQuery, name: str) -> IndexQuery:
    if name == "in_stock":
        return msgspec.structs.replace(query, in_stock=None)
    if name == "price":
        return msgspec.structs.replace(query, min_price=None, max_price=None)
    if name == "category":
        return msgspec.structs.replace(query, category_id=None)
    attributes = {k: v for k, v in query.attributes.items() if f"attr.{k}" != name}
    return msgspec.structs.replace(query, attributes=attributes)


def active_filters(query: IndexQuery) -> list[str]:
    """Filters in the order rescue drops them: the least telling first, the category last."""
    names = ["in_stock"] if query.in_stock is not None else []
    if query.min_price is not None or query.max_price is not None:
        names.append("price")
    names += [f"attr.{k}" for k in sorted(query.attributes)]
    return names + (["category"] if query.category_id is not None else [])


async def _ranked(index: SearchIndex, query: IndexQuery, rules: list[MerchandisingRule]) -> IndexResult:
    """One page; with rules, the page is cut from the first RULE_WINDOW hits after rearranging them."""
    if not rules or query.sort != "relevance" or query.offset >= RULE_WINDOW:
        return await index.search(query)
    window = await index.search(msgspec.structs.replace(query, offset=0, limit=RULE_WINDOW))
    by_id = {h.id: h for h in window.hits}
    order = arrange([h.id for h in window.hits], rules)
    missing = [p for p in order if p not in by_id]
    if missing:
        by_id.update({h.id: h for h in await index.fetch(missing, currency=query.currency)})
    order = [p for p in order if p in by_id]
    added = len(order) - len(window.hits)
    hits = [by_id[p] for p in order[query.offset : query.offset + query.limit]]
    return IndexResult(hits=hits, total=window.total + added, facets=window.facets)


async def _rescue(index: SearchIndex, query: IndexQuery) -> tuple[IndexResult, Rescue] | None:
    """Relax typos, then drop filters one by one, then show what sells best in the shopper's category."""
    category = query.category_id  # the inferred category: the one the shopper was browsing
    if query.text.strip():
        relaxed = msgspec.structs.replace(query, relaxed=True)
        result = await index.search(relaxed)
        if result.total:
            return result, Rescue(strategy="relaxed_query")
        query = relaxed
    dropped: list[str] = []
    for name in active_filters(query):
        query = _without(query, name)
        dropped.append(name)
        result = await index.search(query)
        if result.total:
            return result, Rescue(strategy="dropped_filters", dropped_filters=dropped)
    popular = IndexQuery(category_id=category, currency=query.currency, sort="bestselling", limit=query.limit,
                         facets=True)
    result = await index.search(popular)
    if category and result.total:
        return result, Rescue(strategy="popular_in_category", dropped_filters=dropped, category_id=category)
    result = await index.search(msgspec.structs.replace(popular, category_id=None))
    return (result, Rescue(strategy="popular", dropped_filters=dropped)) if result.total else None


async def search(
    request: SearchRequest, *, index: SearchIndex, uow: Callable[[], MerchandisingUnitOfWork],
    log: TrackingQueue | None = None, clock: Clock | None = None, ids: IdGenerator | None = None,
) -> SearchResponse:
    """Run a storefront search; a query that finds nothing is rescued and the response says how."""
    check_request(request)
    async with uow() as tx:
        redirects = await tx.merchandising.redirects()
        rules = await tx.merchandising.rules()
    query = index_query(request)
    wanted = normalise(request.q)
    redirect = next((r.url for r in redirects if wanted and r.query == wanted), None)
    if redirect is not None:
        response = SearchResponse(query=request.q, hits=[], total=0, page=request.page, per_page=request.per_page,
                                  facets={}, sort=request.sort, redirect=redirect)
        await _log(log, clock, ids, request, found=0, rescue="redirect")
        return response
    applicable = [r for r in rules if r.applies_to(request.q, request.category_id)]
    result = await _ranked(index, query, applicable)
    rescue: Rescue | None = None
    if result.total == 0 and request.page == 1:
        rescued = await _rescue(index, query)
        if rescued is not None:
            result, rescue = rescued
    await _log(log, clock, ids, request, found=0 if rescue else result.total,
               rescue=rescue.strategy if rescue else None)
    hits = [msgspec.structs.replace(h, highlight=html_highlight(h.highlight)) for h in result.hits]
    return SearchResponse(query=request.q, hits=hits, total=result.total, page=request.page,
                          per_page=request.per_page, facets=result.facets, sort=request.sort, rescue=rescue)


async def _log(log: TrackingQueue | None, clock: Clock | None, ids: IdGenerator | None, request: SearchRequest,
               *, found: int, rescue: str | None) -> None:
    """A ``search_performed`` fact, the same kind the storefront reports, so the existing search-term and
    zero-result reports count it. ``results`` is what the shopper's own query found (before rescue)."""
    if log is None or clock is None or ids is None or not request.q.strip():
        return
    filters: dict[str, Any] = {"category": request.category_id, "in_stock": request.in_stock,
                               "min_price": request.min_price, "max_price": request.max_price,
                               **{f"attr.{k}": v for k, v in request.attributes.items()}}
    properties: dict[str, str | int | float | bool | None] = {
        "query": request.q[:200], "results": found, "rescue": rescue, "source": "server", "sort": request.sort,
        "filters": msgspec.json.encode({k: v for k, v in filters.items() if v is not None}).decode(),
    }
    event = TrackedEvent(id=ids.new_id(), kind=Kind.SEARCH_PERFORMED, occurred_at=clock.now(),
                         anonymous_id=request.anonymous_id, properties=properties)
    try:
        await log.submit([event])
    except Exception:
        logger.warning("could not log a search", exc_info=True)


async def suggest(prefix: str, *, index: SearchIndex, limit: int = 8) -> list[str]:
    if not prefix.strip():
        return []
    return await index.suggest(prefix.strip()[:100], limit=limit)
