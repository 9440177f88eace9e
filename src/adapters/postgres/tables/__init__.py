"""SQLAlchemy Core tables. Write side in ``public``, projections in the ``read`` schema.

One module per bounded context, all on the one ``metadata`` (defined in ``base``, which Alembic's ``env.py``
imports from here). Every table is re-exported, so ``from adapters.postgres import tables as t`` then
``t.stock_items`` keeps working.
"""

from __future__ import annotations

from adapters.postgres.tables.analytics import domain_event_facts, tracked_events
from adapters.postgres.tables.base import metadata
from adapters.postgres.tables.carts import carts
from adapters.postgres.tables.catalog import (
    categories,
    category_tree,
    collections,
    price_lists,
    prices,
    product_galleries,
    product_types,
    product_variants,
    products,
    read_categories,
    read_collections,
    read_listing_currencies,
    read_product_listing,
    read_products,
)
from adapters.postgres.tables.checkout import checkouts
from adapters.postgres.tables.customers import customers, password_resets
from adapters.postgres.tables.drops import drop_tickets, drops
from adapters.postgres.tables.giftcards import gift_cards
from adapters.postgres.tables.inventory import (
    buyer_holdings,
    inventory_locations,
    inventory_policies,
    inventory_reconciliations,
    read_availability,
    reservation_lines,
    reservations,
    stock_items,
    stock_movements,
)
from adapters.postgres.tables.invoicing import document_counters, invoice_documents
from adapters.postgres.tables.messaging import idempotency_keys, outbox, processed_events
from adapters.postgres.tables.notifications import sent_emails
from adapters.postgres.tables.orders import orders, read_daily_sales, read_order_summaries
from adapters.postgres.tables.promotions import (
    coupon_customer_usage,
    coupons,
    promotion_customer_usage,
    promotion_redemptions,
    promotion_usage,
    promotions,
)
from adapters.postgres.tables.search import search_redirects, search_rules, search_synonym_groups
from adapters.postgres.tables.shipping import shipping_methods, shipping_zones
from adapters.postgres.tables.staff import staff_tokens
from adapters.postgres.tables.tax import tax_rates
from adapters.postgres.tables.webhooks import webhook_deliveries, webhook_subscriptions

__all__ = [
    "buyer_holdings",
    "carts",
    "categories",
    "category_tree",
    "checkouts",
    "collections",
    "coupon_customer_usage",
    "coupons",
    "customers",
    "document_counters",
    "domain_event_facts",
    "drop_tickets",
    "drops",
    "gift_cards",
    "idempotency_keys",
    "inventory_locations",
    "inventory_policies",
    "inventory_reconciliations",
    "invoice_documents",
    "metadata",
    "orders",
    "outbox",
    "password_resets",
    "price_lists",
    "prices",
    "processed_events",
    "product_galleries",
    "product_types",
    "product_variants",
    "products",
    "promotion_customer_usage",
    "promotion_redemptions",
    "promotion_usage",
    "promotions",
    "read_availability",
    "read_categories",
    "read_collections",
    "read_daily_sales",
    "read_listing_currencies",
    "read_order_summaries",
    "read_product_listing",
    "read_products",
    "reservation_lines",
    "reservations",
    "search_redirects",
    "search_rules",
    "search_synonym_groups",
    "sent_emails",
    "shipping_methods",
    "shipping_zones",
    "staff_tokens",
    "stock_items",
    "stock_movements",
    "tax_rates",
    "tracked_events",
    "webhook_deliveries",
    "webhook_subscriptions",
]
