"""Checkouts."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

checkouts = Table(
    "checkouts", metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(140), nullable=False),
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
