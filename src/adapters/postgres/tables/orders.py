"""Orders and the order views in the ``read`` schema."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, PrimaryKeyConstraint, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

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
