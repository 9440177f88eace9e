"""Messaging: the transactional outbox, consumer deduplication, and HTTP idempotency keys."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

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
