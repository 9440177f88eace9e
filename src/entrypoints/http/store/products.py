from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter

from application.catalog.categories import category_by_reference
from application.catalog.cdn import drop_key, listing_keys, product_key
from application.catalog.channel_view import Priced
from application.catalog.errors import CategoryPageNotFound, ProductPageNotFound, UnknownFilter
from application.catalog.queries import list_products, product_for_channel
from application.catalog.read_models import ProductDocument, ProductPage, ProductQuery
from application.drops.handlers import DropsSelling
from entrypoints.http.caching import EDGE_HEADER, MicroCache, Rendered, cacheable, cacheable_rendered, render
from entrypoints.http.store.channels import VARY, storefront_channel

KNOWN_PARAMETERS = {"category", "currency", "min_price", "max_price", "sort", "limit", "cursor"}


async def _with_drops(bus: Any, priced: Priced) -> Rendered:
    """The document with the drops selling its SKUs (tagged with each drop's key, so a change to a drop
    purges it), cached no longer than until one of them opens or ends, or a sale on it starts or ends."""
    document: ProductDocument = priced.document
    selling = await bus.handle(DropsSelling(skus=tuple(v.sku for v in document.variants)))
    keys = (product_key(document.id), *(drop_key(drop.id) for drop in selling.drops))
    if selling.drops:
        document = msgspec.structs.replace(document, drops=selling.drops)
    moments = [m.timestamp() for m in (selling.changes_at, priced.changes_at) if m is not None]
    return render(document, keys, min(moments) if moments else None)


class StoreProductController(Controller):
    path = "/store/products"
    tags = ["store: catalog"]

    @get("/", operation_id="store_list_products",
         responses={200: ResponseSpec(data_container=ProductPage, description="One page of products")})
    async def list_products(
        self,
        request: Request[Any, Any, Any],
        category: Annotated[str | None, QueryParameter(pattern=r"^[A-Za-z0-9_-]{1,200}$")] = None,  # an id or a slug
        currency: Annotated[str | None, QueryParameter(pattern=r"^[A-Z]{3}$")] = None,
        min_price: Annotated[int | None, QueryParameter(ge=0)] = None,
        max_price: Annotated[int | None, QueryParameter(ge=0)] = None,
        sort: Annotated[str, QueryParameter(pattern=r"^(newest|name|price_asc|price_desc)$")] = "newest",
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 24,
        cursor: Annotated[str | None, QueryParameter(max_length=500)] = None,
    ) -> Response[bytes]:
        """Filter with ``attr.<name>=<value>`` (repeatable per attribute) besides the named parameters;
        ``category`` (an id or a slug) lists the products in that category and in every one below it.
        ``price_from`` is in the shopper's channel (``X-Channel``, else the one selling in ``currency``)."""
        attributes: dict[str, str] = {}
        for name, value in request.query_params.items():
            if name.startswith("attr.") and len(name) > 5:
                attributes[name[5:]] = value
            elif name not in KNOWN_PARAMETERS:
                raise UnknownFilter(f"unknown filter {name!r}")
        container = request.app.state.container
        channel, currency = storefront_channel(request, currency)
        uow = container.uow_factory()
        if category is not None:
            found = await category_by_reference(category, uow=uow)
            if found is None:
                raise CategoryPageNotFound(f"No category {category!r}")
            category = found.id
        page = await list_products(
            ProductQuery(category_id=category, attributes=attributes, currency=currency, min_price=min_price,
                         max_price=max_price, sort=sort, limit=limit, cursor=cursor, channel=channel,
                         at=container.clock().now()),
            uow=uow,
        )
        return cacheable(request, page, surrogate_keys=listing_keys((p.id for p in page.items), category_id=category),
                         max_age=30, s_maxage=120, vary=VARY,
                         changes_at=page.price_changes_at.timestamp() if page.price_changes_at else None)

    @get("/{slug:str}", operation_id="store_get_product", response_description="The product document",
         responses={200: ResponseSpec(data_container=ProductDocument, description="The product document")})
    async def get_product(
        self, request: Request[Any, Any, Any], slug: Annotated[str, PathParameter(max_length=200)],
        currency: Annotated[str | None, QueryParameter(pattern=r"^[A-Z]{3}$")] = None,
    ) -> Response[bytes]:
        """Priced for the shopper's channel (``X-Channel``, else the one selling in ``currency``, else the
        default): what its cart charges now, the tiers, a running sale and its end."""
        channel, currency = storefront_channel(request, currency)
        # The in-process cache absorbs bursts of direct requests; one from the edge skips it: the edge
        # collapses its misses itself, and refetches after a purge, when this cache may hold the old copy.
        cache: MicroCache = request.app.state.documents
        use_cache = EDGE_HEADER not in request.headers
        key = f"{slug} {channel or ''} {currency}"
        hit, rendered = cache.get(key) if use_cache else (False, None)
        if not hit:
            container = request.app.state.container
            shop_zone = ZoneInfo(container.settings().shop_time_zone)  # a sale's window is told in it
            priced = await product_for_channel(slug, uow=container.uow_factory(), channel=channel, currency=currency,
                                               at=container.clock().now().astimezone(shop_zone))
            rendered = None if priced is None else await _with_drops(container.bus(), priced)
            if use_cache:
                cache.put(key, rendered)
        if rendered is None:
            raise ProductPageNotFound(f"No product {slug!r}")
        return cacheable_rendered(request, rendered, surrogate_keys=list(rendered.surrogate_keys), vary=VARY)

