from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter

from application.catalog.categories import CategoryNode, category_by_slug, category_tree
from application.catalog.cdn import CATEGORIES_KEY, collection_key, listing_keys, product_key
from application.catalog.collections import CollectionPage, collection_page
from application.catalog.errors import CategoryPageNotFound, CollectionPageNotFound
from application.catalog.queries import list_products
from application.catalog.read_models import ProductPage, ProductQuery
from entrypoints.http.caching import cacheable
from entrypoints.http.store.channels import VARY, storefront_channel


class CategoryPage(msgspec.Struct, kw_only=True):
    category: CategoryNode
    products: ProductPage


class StoreCategoryController(Controller):
    path = "/store/categories"
    tags = ["store: catalog"]

    @get("/", operation_id="store_categories",
         responses={200: ResponseSpec(data_container=list[CategoryNode], description="The category tree")})
    async def tree(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        nodes = await category_tree(uow=request.app.state.container.uow_factory())
        return cacheable(request, nodes, surrogate_keys=[CATEGORIES_KEY])

    @get("/{slug:str}", operation_id="store_category_page",
         responses={200: ResponseSpec(data_container=CategoryPage, description="A category and its products")})
    async def page(
        self,
        request: Request[Any, Any, Any],
        slug: Annotated[str, PathParameter(max_length=200)],
        sort: Annotated[str, QueryParameter(pattern=r"^(newest|name|price_asc|price_desc)$")] = "newest",
        currency: Annotated[str | None, QueryParameter(pattern=r"^[A-Z]{3}$")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 24,
        cursor: Annotated[str | None, QueryParameter(max_length=500)] = None,
    ) -> Response[bytes]:
        """Its products' ``price_from`` in the shopper's channel (``X-Channel``, else the one selling in
        ``currency``)."""
        container = request.app.state.container
        channel, currency = storefront_channel(request, currency)
        uow = container.uow_factory()
        category = await category_by_slug(slug, uow=uow)
        if category is None:
            raise CategoryPageNotFound(f"No category {slug!r}")
        products = await list_products(
            ProductQuery(category_id=category.id, sort=sort, currency=currency, limit=limit, cursor=cursor,
                         channel=channel, at=container.clock().now()), uow=uow
        )
        changes_at = products.price_changes_at
        return cacheable(request, CategoryPage(category=category, products=products), vary=VARY,
                         surrogate_keys=listing_keys((p.id for p in products.items), category_id=category.id),
                         changes_at=changes_at.timestamp() if changes_at else None)


class StoreCollectionController(Controller):
    path = "/store/collections"
    tags = ["store: catalog"]

    @get("/{slug:str}", operation_id="store_collection_page",
         responses={200: ResponseSpec(data_container=CollectionPage, description="A collection's products")})
    async def page(
        self, request: Request[Any, Any, Any], slug: Annotated[str, PathParameter(max_length=200)]
    ) -> Response[bytes]:
        found = await collection_page(slug, uow=request.app.state.container.uow_factory())
        if found is None:
            raise CollectionPageNotFound(f"No collection {slug!r}")
        return cacheable(request, found,
                         surrogate_keys=[collection_key(found.id), *(product_key(p.id) for p in found.products)])
