"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from entrypoints.container import Container, close
from entrypoints.http.admin.categories import AdminCategoryController, AdminCollectionController
from entrypoints.http.admin.inventory import InventoryController
from entrypoints.http.admin.orders import AdminOrderController
from entrypoints.http.admin.products import AdminProductController
from entrypoints.http.admin.promotions import AdminGiftCardController, AdminPromotionController
from entrypoints.http.admin.reports import ReportsController
from entrypoints.http.admin.search import AdminSearchController
from entrypoints.http.admin.webhooks import AdminWebhookController
from entrypoints.http.caching import MicroCache
from entrypoints.http.dependencies import DEPENDENCIES
from entrypoints.http.health import HealthController
from entrypoints.http.idempotency import idempotency_middleware
from entrypoints.http.metrics import MetricsController
from entrypoints.http.middleware import observe_middleware
from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.store.availability import StoreAvailabilityController
from entrypoints.http.store.cart import StoreCartController
from entrypoints.http.store.categories import StoreCategoryController, StoreCollectionController
from entrypoints.http.store.checkout import StoreCheckoutController, StoreOrderController
from entrypoints.http.store.customers import StoreCustomerController
from entrypoints.http.store.events import StoreEventsController
from entrypoints.http.store.identity import csrf_middleware
from entrypoints.http.store.products import StoreProductController
from entrypoints.http.store.search import StoreSearchController
from entrypoints.http.webhooks import WebhookController
from entrypoints.logging import configure_logging, install_context_stamp

ROUTE_HANDLERS = [
    HealthController,
    MetricsController,
    AdminProductController,
    StoreProductController,
    StoreEventsController,
    ReportsController,
    InventoryController,
    StoreAvailabilityController,
    AdminCategoryController,
    StoreCategoryController,
    AdminCollectionController,
    StoreCollectionController,
    StoreSearchController,
    AdminSearchController,
    AdminWebhookController,
    StoreCartController,
    StoreCustomerController,
    StoreCheckoutController,
    StoreOrderController,
    WebhookController,
    AdminPromotionController,
    AdminOrderController,
    AdminGiftCardController,
]


def create_app(container: Container | None = None, *, configure_logs: bool = True) -> Litestar:
    """Build the app. Nothing connects here: engines and clients open lazily, close on shutdown."""
    container = container or Container()
    settings = container.settings()
    install_context_stamp()
    if configure_logs:
        configure_logging(settings.log_level, json_lines=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.container = container
        try:
            yield
        finally:
            await close(container)

    return Litestar(
        route_handlers=ROUTE_HANDLERS,
        state=State({"documents": MicroCache(ttl=settings.document_cache_seconds)}),
        lifespan=[lifespan],
        dependencies=DEPENDENCIES,
        middleware=[observe_middleware, csrf_middleware, idempotency_middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Emporium",
            version="0.1.0",
            description="Headless commerce API: storefront under /store, staff under /admin.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(), JsonRenderPlugin()],
            components=Components(
                security_schemes={"staffToken": SecurityScheme(type="http", scheme="bearer")}
            ),
        ),
        debug=False,
    )
