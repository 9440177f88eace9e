"""Promotions, coupons, and their usage and redemptions."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

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
