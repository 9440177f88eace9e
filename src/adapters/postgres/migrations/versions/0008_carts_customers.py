"""carts (the durable copy behind Redis), customers with their address book, password resets

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("retired", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    # One active cart per customer: two devices racing to create one conflict, and one wins.
    op.create_index(
        "uq_carts_active_customer", "carts", ["customer_id"], unique=True,
        postgresql_where=sa.text("customer_id IS NOT NULL AND NOT retired"),
    )
    op.create_index("ix_carts_expires_at", "carts", ["expires_at"])
    op.create_table(
        "customers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("groups", JSONB, nullable=False),
        sa.Column("addresses", JSONB, nullable=False),
        sa.Column("default_shipping", sa.String(64), nullable=True),
        sa.Column("default_billing", sa.String(64), nullable=True),
        sa.Column("marketing_opt_in", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("email", name="uq_customers_email"),
    )
    op.create_table(
        "password_resets",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("password_resets")
    op.drop_table("customers")
    op.drop_index("ix_carts_expires_at", table_name="carts")
    op.drop_index("uq_carts_active_customer", table_name="carts")
    op.drop_table("carts")
