"""Carts."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

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
