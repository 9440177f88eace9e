"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from entrypoints.container import Container, close
from entrypoints.http.abuse import abuse_middleware
from entrypoints.http.admin.categories import AdminCategoryController, AdminCollectionController
from entrypoints.http.admin.documents import AdminOrderDocumentController
from entrypoints.http.admin.drops import AdminDropController
from entrypoints.http.admin.inventory import InventoryController
from entrypoints.http.admin.media import AdminMediaController
from entrypoints.http.admin.orders import AdminOrderController
from entrypoints.http.admin.product_types import AdminProductTypeController
from entrypoints.http.admin.products import AdminProductController
from entrypoints.http.admin.promotions import AdminGiftCardController, AdminPromotionController
from entrypoints.http.admin.reports import ReportsController
from entrypoints.http.admin.search import AdminSearchController
from entrypoints.http.admin.shipping import AdminShippingController
from entrypoints.http.admin.tax import AdminTaxController
from entrypoints.http.admin.webhooks import AdminWebhookController
from entrypoints.http.caching import MicroCache
from entrypoints.http.decoding import EdgeRequest, url_middleware
from entrypoints.http.dependencies import DEPENDENCIES
from entrypoints.http.docs import DocsRenderPlugin
from entrypoints.http.headers import security_headers
from entrypoints.http.health import HealthController
from entrypoints.http.idempotency import idempotency_leases, idempotency_middleware
from entrypoints.http.media import MediaController
from entrypoints.http.metrics import MetricsController, loop_lag_sampler
from entrypoints.http.middleware import observe_middleware
from entrypoints.http.openapi import document_problems
from entrypoints.http.outages import OUTAGE_HANDLERS
from entrypoints.http.pace import pace_middleware
from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.store.availability import StoreAvailabilityController
from entrypoints.http.store.cart import StoreCartController
from entrypoints.http.store.categories import StoreCategoryController, StoreCollectionController
from entrypoints.http.store.checkout import StoreCheckoutController, StoreOrderController
from entrypoints.http.store.customers import StoreCustomerController
from entrypoints.http.store.documents import StoreOrderDocumentController
from entrypoints.http.store.drops import StoreDropController
from entrypoints.http.store.events import StoreEventsController
from entrypoints.http.store.identity import CSRF_HEADER, allowed_origins, csrf_middleware
from entrypoints.http.store.products import StoreProductController
from entrypoints.http.store.search import StoreSearchController
from entrypoints.http.webhooks import WebhookController
from entrypoints.logging import configure_logging, install_context_stamp
from entrypoints.settings import Settings, refuse_insecure

ROUTE_HANDLERS = [
    HealthController,
    MetricsController,
    AdminProductController,
    AdminProductTypeController,
    AdminMediaController,
    MediaController,
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
    AdminTaxController,
    AdminShippingController,
    StoreCartController,
    StoreCustomerController,
    StoreCheckoutController,
    StoreDropController,
    StoreOrderController,
    StoreOrderDocumentController,
    WebhookController,
    AdminPromotionController,
    AdminDropController,
    AdminOrderController,
    AdminOrderDocumentController,
    AdminGiftCardController,
]


def cors(settings: Settings) -> CORSConfig | None:
    """Credentialed CORS for the listed storefront origins only; none at all when none is listed."""
    origins = allowed_origins(settings)
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins, allow_credentials=True, allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Content-Type", CSRF_HEADER, "Idempotency-Key", "X-Channel", "X-Request-Id", "If-None-Match",
                       "Drop-Admission"],
        expose_headers=[CSRF_HEADER, "X-Request-Id", "ETag", "Idempotent-Replayed", "Retry-After", "Location"],
        max_age=600,
    )


def create_app(container: Container | None = None, *, configure_logs: bool = True) -> Litestar:
    """Build the app. Nothing connects here: engines and clients open lazily, close on shutdown.

    Refuses (``SettingsError``) insecure production settings. Logging is ours alone
    (``configure_logging``; Litestar's own logging config is off: it would replace our handler)."""
    container = container or Container()
    settings = container.settings()
    refuse_insecure(settings)
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

    app = Litestar(
        route_handlers=ROUTE_HANDLERS,
        state=State({"documents": MicroCache(ttl=settings.document_cache_seconds)}),
        lifespan=[lifespan, loop_lag_sampler, idempotency_leases],
        dependencies=DEPENDENCIES,
        # pace first: a waiting-room question asked before its time is refused before anything else runs
        middleware=[pace_middleware, observe_middleware, url_middleware, csrf_middleware, abuse_middleware,
                    idempotency_middleware],
        exception_handlers={**EXCEPTION_HANDLERS, **OUTAGE_HANDLERS},
        request_class=EdgeRequest,
        before_send=[security_headers],
        cors_config=cors(settings),
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="Emporium",
            version="0.1.0",
            description="Headless commerce API: storefront under /store, staff under /admin.",
            path="/schema",
            # No CDN scripts: a server-rendered page at /schema, the document at /schema/openapi.json.
            render_plugins=[DocsRenderPlugin(), JsonRenderPlugin()],
            components=Components(
                security_schemes={"staffToken": SecurityScheme(type="http", scheme="bearer")}
            ),
        ),
        debug=False,
    )
    document_problems(app.openapi_schema)
    return app
