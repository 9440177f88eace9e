"""checkouts, orders (at most one per checkout), idempotency keys

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkouts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(140), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("checkout_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("payment_provider", sa.String(24), nullable=False),
        sa.Column("payment_references", JSONB, nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.UniqueConstraint("checkout_id", name="uq_orders_checkout_id"),
        sa.UniqueConstraint("number", name="uq_orders_number"),
    )
    op.create_index("ix_orders_status_placed_at", "orders", ["status", "placed_at"])
    op.create_index("ix_orders_customer_placed_at", "orders", ["customer_id", "placed_at"])
    op.create_index("ix_orders_payment_references", "orders", ["payment_references"], postgresql_using="gin")
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(140), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=True),  # NULL while the first request is running
        sa.Column("headers", JSONB, nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("orders")
    op.drop_table("checkouts")
