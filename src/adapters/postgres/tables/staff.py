"""Staff API tokens."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table, Text

from adapters.postgres.tables.base import metadata

staff_tokens = Table(
    "staff_tokens", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)
