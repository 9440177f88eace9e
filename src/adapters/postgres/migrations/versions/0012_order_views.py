"""order read models: summaries (staff list, customer history) and daily sales per currency

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_summaries",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("refunded", sa.BigInteger, nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        schema="read",
    )
    op.create_index("ix_read_order_summaries_placed", "order_summaries", ["placed_at", "id"], schema="read")
    op.create_index("ix_read_order_summaries_customer", "order_summaries", ["customer_id", "placed_at"],
                    schema="read")
    op.create_table(
        "daily_sales",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.Column("gross", sa.BigInteger, nullable=False),
        sa.Column("discounts", sa.BigInteger, nullable=False),
        sa.Column("tax", sa.BigInteger, nullable=False),
        sa.Column("shipping", sa.BigInteger, nullable=False),
        sa.Column("refunds", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("day", "currency", name="pk_daily_sales"),
        schema="read",
    )


def downgrade() -> None:
    op.drop_table("daily_sales", schema="read")
    op.drop_table("order_summaries", schema="read")
