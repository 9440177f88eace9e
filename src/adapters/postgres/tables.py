"""SQLAlchemy Core tables. Write side in ``public``, projections in the ``read`` schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

products = Table(
    "products", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("slug", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("options", JSONB, nullable=False),
    Column("attributes", JSONB, nullable=False),
    Column("category_ids", JSONB, nullable=False),
    Column("media", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
)

product_variants = Table(
    "product_variants", metadata,
    Column("sku", String(64), primary_key=True),
    Column("product_id", String(64), ForeignKey("products.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("option_values", JSONB, nullable=False),
    Column("weight_grams", Integer, nullable=False),
    Column("barcode", String(64)),
    Column("components", JSONB, nullable=False),
)

price_lists = Table(
    "price_lists", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", String(64)),
    Column("version", Integer, nullable=False),
)

prices = Table(
    "prices", metadata,
    Column("price_list_id", String(64), ForeignKey("price_lists.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("tiers", JSONB, nullable=False),
    Column("sale_amount", BigInteger),
    Column("sale_starts_at", DateTime(timezone=True)),
    Column("sale_ends_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("price_list_id", "sku"),
    CheckConstraint("amount >= 0 AND (sale_amount IS NULL OR sale_amount >= 0)", name="not_negative"),
)

staff_tokens = Table(
    "staff_tokens", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

outbox = Table(
    "outbox", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("aggregate_version", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("published_at", DateTime(timezone=True)),
)

processed_events = Table(
    "processed_events", metadata,
    Column("consumer", String(100), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("consumer", "event_id"),
)

read_products = Table(
    "products", metadata,
    Column("id", String(64), primary_key=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("document", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    schema="read",
)

tracked_events = Table(
    "tracked_events", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("anonymous_id", String(64), nullable=False),
    Column("customer_id", String(64)),
    Column("properties", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    schema="analytics",
)

domain_event_facts = Table(
    "domain_events", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("topic", String(200), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=False),
    schema="analytics",
)

inventory_locations = Table(
    "inventory_locations", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("priority", Integer, nullable=False),
)

inventory_policies = Table(
    "inventory_policies", metadata,
    Column("sku", String(64), primary_key=True),
    Column("track_inventory", Boolean, nullable=False),
    Column("allow_backorder", Boolean, nullable=False),
    Column("low_stock_threshold", Integer, nullable=False),
    Column("show_quantity", Boolean, nullable=False),
)

stock_items = Table(
    "stock_items", metadata,
    Column("sku", String(64), nullable=False),
    Column("location_id", String(64), ForeignKey("inventory_locations.id"), nullable=False),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("committed", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("sku", "location_id"),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("committed >= 0", name="committed_not_negative"),
    CheckConstraint("on_hand >= reserved + committed", name="available_not_negative"),
)

stock_movements = Table(
    "stock_movements", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("location_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("on_hand_delta", BigInteger, nullable=False),
    Column("reserved_delta", BigInteger, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("reference", String(100), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("committed_delta", BigInteger, nullable=False, server_default=text("0")),
)

reservations = Table(
    "reservations", metadata,
    Column("id", String(64), primary_key=True),
    Column("reference", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

reservation_lines = Table(
    "reservation_lines", metadata,
    Column("reservation_id", String(64), ForeignKey("reservations.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("location_id", String(64), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    PrimaryKeyConstraint("reservation_id", "line_no"),
)

inventory_reconciliations = Table(
    "inventory_reconciliations", metadata,
    Column("id", String(64), primary_key=True),
    Column("ran_at", DateTime(timezone=True), nullable=False),
    Column("expired", Integer, nullable=False),
    Column("drift", JSONB, nullable=False),
)

read_availability = Table(
    "availability", metadata,
    Column("sku", String(64), primary_key=True),
    Column("available", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("show_quantity", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    schema="read",
)

categories = Table(
    "categories", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("slug", String(200), nullable=False, unique=True),
    Column("parent_id", String(64)),
    Column("position", Integer, nullable=False),
)

category_tree = Table(
    "category_tree", metadata,
    Column("id", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
)

read_categories = Table(
    "categories", metadata,
    Column("id", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("nodes", JSONB, nullable=False),
    schema="read",
)

collections = Table(
    "collections", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("slug", String(200), nullable=False, unique=True),
    Column("product_ids", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
)

read_collections = Table(
    "collections", metadata,
    Column("id", String(64), primary_key=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("entry", JSONB, nullable=False),
    schema="read",
)

# Search: merchandising (write side) and the PostgreSQL search index (``search`` schema, see search_0001).

search_synonym_groups = Table(
    "search_synonym_groups", metadata,
    Column("id", String(64), primary_key=True),
    Column("terms", JSONB, nullable=False),
)

search_rules = Table(
    "search_rules", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("query", Text),
    Column("category_id", String(64)),
    Column("product_ids", JSONB, nullable=False),
)

search_redirects = Table(
    "search_redirects", metadata,
    Column("id", String(64), primary_key=True),
    Column("query", Text, nullable=False, unique=True),
    Column("url", Text, nullable=False),
)

carts = Table(
    "carts", metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=True),
    Column("retired", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

customers = Table(
    "customers", metadata,
    Column("id", String(64), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("groups", JSONB, nullable=False),
    Column("addresses", JSONB, nullable=False),
    Column("default_shipping", String(64), nullable=True),
    Column("default_billing", String(64), nullable=True),
    Column("marketing_opt_in", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

password_resets = Table(
    "password_resets", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)

checkouts = Table(
    "checkouts", metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(140), nullable=False),
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

orders = Table(
    "orders", metadata,
    Column("id", String(64), primary_key=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("checkout_id", String(64), nullable=False, unique=True),
    Column("customer_id", String(64), nullable=True),
    Column("email", String(254), nullable=False),
    Column("status", String(24), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("payment_provider", String(24), nullable=False),
    Column("payment_references", JSONB, nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("scope", String(140), nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=True),
    Column("headers", JSONB, nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("scope", "key"),
)

promotions = Table(
    "promotions", metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=True),
    Column("ends_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("limits", JSONB, nullable=False),
)

promotion_usage = Table(
    "promotion_usage", metadata,
    Column("promotion_id", String(64), ForeignKey("promotions.id"), primary_key=True),
    Column("redemptions", Integer, nullable=False, server_default="0"),
    Column("spent", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
)

promotion_customer_usage = Table(
    "promotion_customer_usage", metadata,
    Column("promotion_id", String(64), nullable=False),
    Column("customer_key", String(140), nullable=False),
    Column("redemptions", Integer, nullable=False),
    PrimaryKeyConstraint("promotion_id", "customer_key"),
)

coupons = Table(
    "coupons", metadata,
    Column("code", String(64), primary_key=True),
    Column("promotion_id", String(64), ForeignKey("promotions.id"), nullable=False),
    Column("usage_limit", Integer, nullable=True),
    Column("per_customer_limit", Integer, nullable=True),
    Column("used", Integer, nullable=False, server_default="0"),
)

coupon_customer_usage = Table(
    "coupon_customer_usage", metadata,
    Column("code", String(64), nullable=False),
    Column("customer_key", String(140), nullable=False),
    Column("used", Integer, nullable=False),
    PrimaryKeyConstraint("code", "customer_key"),
)

promotion_redemptions = Table(
    "promotion_redemptions", metadata,
    Column("order_id", String(64), nullable=False),
    Column("promotion_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("customer_key", String(140), nullable=False),
    Column("coupon_codes", JSONB, nullable=False),
    PrimaryKeyConstraint("order_id", "promotion_id"),
)

read_order_summaries = Table(
    "order_summaries", metadata,
    Column("id", String(64), primary_key=True),
    Column("number", String(40), nullable=False),
    Column("status", String(24), nullable=False),
    Column("customer_id", String(64), nullable=True),
    Column("email", String(254), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("refunded", BigInteger, nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    schema="read",
)

read_daily_sales = Table(
    "daily_sales", metadata,
    Column("day", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("orders", Integer, nullable=False),
    Column("gross", BigInteger, nullable=False),
    Column("discounts", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("shipping", BigInteger, nullable=False),
    Column("refunds", BigInteger, nullable=False),
    PrimaryKeyConstraint("day", "currency"),
    schema="read",
)

webhook_subscriptions = Table(
    "webhook_subscriptions", metadata,
    Column("id", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("topics", JSONB, nullable=False),
    Column("secret", Text, nullable=False),  # needed in clear to sign; the admin API never returns it
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", String(64), primary_key=True),
    Column("subscription_id", String(64), ForeignKey("webhook_subscriptions.id"), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("replays", Integer, nullable=False),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=False),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("subscription_id", "event_id"),
    Index("ix_webhook_deliveries_subscription_created", "subscription_id", "created_at"),
)

sent_emails = Table(
    "sent_emails", metadata,
    Column("key", String(255), primary_key=True),
    Column("recipient", String(254), nullable=False),
    Column("template", String(64), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)

gift_cards = Table(
    "gift_cards", metadata,
    Column("code", String(32), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
)
