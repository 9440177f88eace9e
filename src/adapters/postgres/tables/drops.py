"""Drops: the scheduled sales, and the waiting-room tickets issued for them (the room's state in Redis is
rebuilt from these when Redis lost it)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY

from adapters.postgres.tables.base import metadata

drops = Table(
    "drops", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("skus", ARRAY(String(64)), nullable=False),
    Column("opens_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True)),
    Column("time_zone", String(64), nullable=False),
    Column("per_customer_limit", Integer),
    Column("online_payment_only", Boolean, nullable=False),
    Column("waiting_room", Boolean, nullable=False),
    Column("admission_rate", Float),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("sold_out_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    CheckConstraint("per_customer_limit IS NULL OR per_customer_limit >= 1", name="limit_positive"),
    CheckConstraint("admission_rate IS NULL OR admission_rate > 0", name="rate_positive"),
    CheckConstraint("ends_at IS NULL OR ends_at > opens_at", name="ends_after_opening"),
)
Index("ix_drops_skus", drops.c.skus, postgresql_using="gin")

drop_tickets = Table(
    "drop_tickets", metadata,
    Column("id", String(64), primary_key=True),
    Column("drop_id", String(64), ForeignKey("drops.id"), nullable=False),
    Column("holder", String(200), nullable=False),  # whose ticket: one per shopper (session or account)
    Column("joined_at", DateTime(timezone=True), nullable=False),
    Column("draw_key", Float, nullable=False),
    Column("admitted_at", DateTime(timezone=True)),
    Column("used_by", String(64)),  # the checkout whose payment used the admission (once)
    UniqueConstraint("drop_id", "holder"),  # one ticket per shopper and drop
    CheckConstraint("draw_key >= 0 AND draw_key < 1", name="draw_key_in_unit_interval"),
)
