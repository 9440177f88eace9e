from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter

from application.catalog.handlers import product_by_slug
from application.catalog.read_models import ProductDocument
from entrypoints.http.caching import cacheable


class StoreProductController(Controller):
    path = "/store/products"
    tags = ["store: catalog"]

    @get("/{slug:str}", operation_id="store_get_product", response_description="The product document",
         responses={200: ResponseSpec(data_container=ProductDocument, description="The product document")})
    async def get_product(
        self, request: Request[Any, Any, Any], slug: Annotated[str, PathParameter(max_length=200)]
    ) -> Response[bytes]:
        document = await product_by_slug(slug, uow=request.app.state.container.uow_factory())
        if document is None:
            raise NotFoundException(f"No product {slug!r}")
        return cacheable(request, document, surrogate_keys=[f"product-{document.id}", "products"])
