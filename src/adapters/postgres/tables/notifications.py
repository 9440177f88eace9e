"""Notifications: the emails already sent."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table

from adapters.postgres.tables.base import metadata

sent_emails = Table(
    "sent_emails", metadata,
    Column("key", String(255), primary_key=True),
    Column("recipient", String(254), nullable=False),
    Column("template", String(64), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)
