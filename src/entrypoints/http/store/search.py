"""GET /store/search and /store/search/suggest: full text with filters, facets, sorts and rescue."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from application.catalog.cdn import ALL_PRODUCTS_KEY
from application.search.errors import UnknownSearchFilter
from application.search.queries import MAX_PAGE, SearchRequest, SearchResponse, search, suggest
from entrypoints.http.caching import cacheable

KNOWN_PARAMETERS = {"q", "category", "currency", "min_price", "max_price", "in_stock", "sort", "page", "per_page"}
ANONYMOUS_HEADER = "x-anonymous-id"


class Suggestions(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    suggestions: list[str]


def _attributes(request: Request[Any, Any, Any], known: set[str]) -> dict[str, str]:
    """``attr.<name>=<value>`` filters; any other unknown parameter is refused (400), not ignored."""
    attributes: dict[str, str] = {}
    for name, value in request.query_params.items():
        if name.startswith("attr.") and 5 < len(name) <= 45 and len(value) <= 100:
            attributes[name[5:]] = value
        elif name not in known:
            raise UnknownSearchFilter(f"unknown filter {name!r}")
    return attributes


class StoreSearchController(Controller):
    path = "/store/search"
    tags = ["store: search"]

    @get("/", operation_id="store_search",
         responses={200: ResponseSpec(data_container=SearchResponse, description="One page of hits")})
    async def search(
        self,
        request: Request[Any, Any, Any],
        q: Annotated[str, QueryParameter(max_length=200)] = "",
        category: Annotated[str | None, QueryParameter(max_length=64)] = None,
        currency: Annotated[str, QueryParameter(pattern=r"^[A-Z]{3}$")] = "EUR",
        min_price: Annotated[int | None, QueryParameter(ge=0)] = None,
        max_price: Annotated[int | None, QueryParameter(ge=0)] = None,
        in_stock: Annotated[bool | None, QueryParameter()] = None,
        sort: Annotated[str, QueryParameter(pattern=r"^(relevance|price_asc|price_desc|newest|bestselling)$")] = (
            "relevance"
        ),
        page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=100)] = 24,
    ) -> Response[Any]:
        """Filter with ``attr.<name>=<value>``. The response says which rescue saved an empty result,
        or where a merchandiser redirects this query. Every search is logged for the search reports;
        that is why the response is not cacheable at the edge."""
        container = request.app.state.container
        anonymous = request.headers.get(ANONYMOUS_HEADER, "")[:64] or "server"
        result = await search(
            SearchRequest(q=q, category_id=category, attributes=_attributes(request, KNOWN_PARAMETERS),
                          currency=currency, min_price=min_price, max_price=max_price, in_stock=in_stock,
                          sort=sort, page=page, per_page=per_page, anonymous_id=anonymous,
                          language=container.settings().search_language),
            index=container.search_index(), uow=container.uow_factory(), log=container.tracking_queue(),
            clock=container.clock(), ids=container.ids(),
        )
        return Response(result, headers={"Cache-Control": "private, no-store"})

    @get("/suggest", operation_id="store_search_suggest",
         responses={200: ResponseSpec(data_container=Suggestions, description="Names completing the prefix")})
    async def suggest(
        self,
        request: Request[Any, Any, Any],
        q: Annotated[str, QueryParameter(min_length=1, max_length=100)],
        limit: Annotated[int, QueryParameter(ge=1, le=20)] = 8,
    ) -> Response[bytes]:
        _attributes(request, {"q", "limit"})
        names = await suggest(q, index=request.app.state.container.search_index(), limit=limit)
        return cacheable(request, Suggestions(query=q, suggestions=names), surrogate_keys=[ALL_PRODUCTS_KEY],
                         max_age=30, s_maxage=60)
