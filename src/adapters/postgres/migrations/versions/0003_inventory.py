"""inventory: locations, policies, stock items with CHECKs, movement ledger, reservations, availability

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_locations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
    )
    op.create_table(
        "inventory_policies",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("track_inventory", sa.Boolean, nullable=False),
        sa.Column("allow_backorder", sa.Boolean, nullable=False),
        sa.Column("low_stock_threshold", sa.Integer, nullable=False),
        sa.Column("show_quantity", sa.Boolean, nullable=False),
    )
    op.create_table(
        "stock_items",
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("location_id", sa.String(64), sa.ForeignKey("inventory_locations.id"), nullable=False),
        sa.Column("on_hand", sa.BigInteger, nullable=False),
        sa.Column("reserved", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("sku", "location_id", name="pk_stock_items"),
        sa.CheckConstraint("reserved >= 0", name="ck_stock_items_reserved_not_negative"),
        # available = on_hand - reserved never goes below zero: the last line of defence.
        sa.CheckConstraint("on_hand >= reserved", name="ck_stock_items_available_not_negative"),
    )
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("on_hand_delta", sa.BigInteger, nullable=False),
        sa.Column("reserved_delta", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_stock_movements_item", "stock_movements", ["sku", "location_id", "id"])
    # The ledger is append-only: the database refuses edits and deletions.
    op.execute(
        """
        CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'stock_movements is append-only';
        END $$;
        CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements
            FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only();
        """
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index(
        "uq_reservations_active_reference", "reservations", ["reference"], unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_reservations_active_expiry", "reservations", ["expires_at"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "reservation_lines",
        sa.Column("reservation_id", sa.String(64), sa.ForeignKey("reservations.id"), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("reservation_id", "line_no", name="pk_reservation_lines"),
    )
    op.create_table(
        "inventory_reconciliations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expired", sa.Integer, nullable=False),
        sa.Column("drift", JSONB, nullable=False),
    )
    op.create_table(
        "availability",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("available", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("show_quantity", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        schema="read",
    )


def downgrade() -> None:
    op.drop_table("availability", schema="read")
    op.drop_table("inventory_reconciliations")
    op.drop_table("reservation_lines")
    op.drop_table("reservations")
    op.execute(
        "DROP TRIGGER IF EXISTS stock_movements_append_only ON stock_movements; "
        "DROP FUNCTION IF EXISTS stock_movements_append_only()"
    )
    op.drop_table("stock_movements")
    op.drop_table("stock_items")
    op.drop_table("inventory_policies")
    op.drop_table("inventory_locations")
