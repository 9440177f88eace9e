"""Shipping: the zones the merchant ships to and the methods (a rate in one currency) offered in each."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, ForeignKey, String, Table, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from adapters.postgres.tables.base import metadata

shipping_zones = Table(
    "shipping_zones", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("countries", ARRAY(String(2)), nullable=False),
    Column("regions", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

shipping_methods = Table(
    "shipping_methods", metadata,
    Column("id", String(64), primary_key=True),
    # No cascade: a zone with methods is not deleted (ShippingZoneInUse).
    Column("zone_id", String(64), ForeignKey("shipping_zones.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("amount", BigInteger, nullable=False, server_default=text("0")),
    Column("bands", JSONB, nullable=False, server_default=text("'[]'")),  # [[up to grams, amount], …] ascending
    Column("free_over", BigInteger),
    Column("days", Text, nullable=False, server_default=text("''")),
    Column("countries", ARRAY(String(2)), nullable=False, server_default=text("'{}'")),
    Column("regions", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    CheckConstraint("kind IN ('flat', 'weight')", name="known_kind"),
    CheckConstraint("amount >= 0 AND (free_over IS NULL OR free_over >= 0)", name="amounts_not_negative"),
)
