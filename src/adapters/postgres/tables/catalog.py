"""Catalog: products and variants, price lists, categories, collections, and their ``read`` projections."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

# Product types (migration 0030): each with its attribute definitions, in order.
product_types = Table(
    "product_types", metadata,
    Column("id", String(64), primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("definitions", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
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
    Column("tax_class", String(16), nullable=False, server_default="standard"),
    Column("product_type_id", String(64), ForeignKey("product_types.id"), index=True),  # none: untyped
)
Index("ix_products_category_ids", products.c.category_ids, postgresql_using="gin")  # migration 0028

product_variants = Table(
    "product_variants", metadata,
    Column("sku", String(64), primary_key=True),
    Column("product_id", String(64), ForeignKey("products.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("option_values", JSONB, nullable=False),
    Column("weight_grams", Integer, nullable=False),
    Column("barcode", String(64)),
    Column("components", JSONB, nullable=False),
    Column("requires_online_payment", Boolean, nullable=False, server_default=false()),
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

read_products = Table(
    "products", metadata,
    Column("id", String(64), primary_key=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("document", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    schema="read",
)

# The listing's sort keys and memberships (migration 0021): one row per active product, scope ('' or a
# category id) and currency ('' or one of ``read.listing_currencies``); the catalog projection writes them.
read_product_listing = Table(
    "product_listing", metadata,
    Column("scope", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("name_key", Text, nullable=False),
    PrimaryKeyConstraint("scope", "currency", "product_id"),
    schema="read",
)

read_listing_currencies = Table(
    "listing_currencies", metadata,
    Column("currency", String(3), primary_key=True),
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
    Column("slug", String(200), unique=True),  # NULL: a deleted collection's tombstone (migration 0028)
    Column("version", Integer, nullable=False),
    Column("entry", JSONB, nullable=False),
    schema="read",
)

# A product's uploaded images (the Gallery aggregate, domain/catalog/media.py): in order, with alt text,
# the variants each shows and its renditions once the worker made them. Migration 0030.
product_galleries = Table(
    "product_galleries", metadata,
    Column("product_id", String(64), ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("images", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
)
