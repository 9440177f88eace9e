"""Webhook subscriptions and deliveries."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

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
