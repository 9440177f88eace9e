"""Analytics: tracked storefront events and domain event facts (``analytics`` schema)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

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
