"""Inventory: locations, policies, stock, the movement ledger, reservations, and ``read.availability``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

inventory_locations = Table(
    "inventory_locations", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("priority", Integer, nullable=False),
)

inventory_policies = Table(
    "inventory_policies", metadata,
    Column("sku", String(64), primary_key=True),
    Column("track_inventory", Boolean, nullable=False),
    Column("allow_backorder", Boolean, nullable=False),
    Column("low_stock_threshold", Integer, nullable=False),
    Column("show_quantity", Boolean, nullable=False),
)

stock_items = Table(
    "stock_items", metadata,
    Column("sku", String(64), nullable=False),
    Column("location_id", String(64), ForeignKey("inventory_locations.id"), nullable=False),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("committed", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("sku", "location_id"),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("committed >= 0", name="committed_not_negative"),
    CheckConstraint("on_hand >= reserved + committed", name="available_not_negative"),
)

stock_movements = Table(
    "stock_movements", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("location_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("on_hand_delta", BigInteger, nullable=False),
    Column("reserved_delta", BigInteger, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("reference", String(100), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("committed_delta", BigInteger, nullable=False, server_default=text("0")),
)

reservations = Table(
    "reservations", metadata,
    Column("id", String(64), primary_key=True),
    Column("reference", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

reservation_lines = Table(
    "reservation_lines", metadata,
    Column("reservation_id", String(64), ForeignKey("reservations.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("location_id", String(64), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    PrimaryKeyConstraint("reservation_id", "line_no"),
)

inventory_reconciliations = Table(
    "inventory_reconciliations", metadata,
    Column("id", String(64), primary_key=True),
    Column("ran_at", DateTime(timezone=True), nullable=False),
    Column("expired", Integer, nullable=False),
    Column("drift", JSONB, nullable=False),
)

read_availability = Table(
    "availability", metadata,
    Column("sku", String(64), primary_key=True),
    Column("available", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("show_quantity", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    schema="read",
)

# What each buyer holds of a SKU a drop caps per buyer, per reservation (issue 22): counted while the
# reservation counts (active, committed, shipped), under the stock locks of the SKU.
buyer_holdings = Table(
    "buyer_holdings", metadata,
    Column("reservation_id", String(64), ForeignKey("reservations.id"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("buyer", String(300), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("cap", Integer, nullable=False),  # what the buyer may hold of the SKU, as the hold was placed
    CheckConstraint("quantity > 0 AND quantity <= cap", name="quantity_within_cap"),
)
Index("ix_buyer_holdings_sku_buyer", buyer_holdings.c.sku, buyer_holdings.c.buyer)
