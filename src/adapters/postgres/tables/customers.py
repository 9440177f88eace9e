"""Customers and their password resets."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

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
