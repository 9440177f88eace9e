from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from application.catalog.queries import bundle_components
from application.inventory.queries import availability_of
from application.inventory.read_models import Availability
from domain.inventory.reservation import bundle_status


class StoreAvailabilityController(Controller):
    path = "/store/availability"
    tags = ["store: catalog"]

    @get("/", operation_id="store_availability")
    async def availability(
        self,
        request: Request[Any, Any, Any],
        skus: Annotated[list[str], QueryParameter(name="sku", min_items=1, max_items=100)],
    ) -> Response[list[Availability]]:
        container = request.app.state.container
        uow = container.uow_factory()
        bundles = await bundle_components(skus, catalog=container.catalog())
        parts = sorted({c for components in bundles.values() for c, _ in components})
        found = await availability_of([*skus, *parts], uow=uow)
        body = [
            Availability(sku=sku, status=bundle_status(
                [found[c].status if c in found else "unknown" for c, _ in bundles[sku]]
            ))
            if sku in bundles else found.get(sku, Availability(sku=sku, status="unknown"))
            for sku in skus
        ]
        # Short edge caching: availability moves fast during a sale.
        return Response(body, headers={"Cache-Control": "public, max-age=0, s-maxage=5, stale-while-revalidate=5"})
