"""promotions (versions as JSONB), coupons, usage counters and redemptions

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promotions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("limits", JSONB, nullable=False),
    )
    op.create_index("ix_promotions_status", "promotions", ["status"])
    op.create_table(
        "promotion_usage",
        sa.Column("promotion_id", sa.String(64), sa.ForeignKey("promotions.id"), primary_key=True),
        sa.Column("redemptions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("spent", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_table(
        "promotion_customer_usage",
        sa.Column("promotion_id", sa.String(64), nullable=False),
        sa.Column("customer_key", sa.String(140), nullable=False),
        sa.Column("redemptions", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("promotion_id", "customer_key", name="pk_promotion_customer_usage"),
    )
    op.create_table(
        "coupons",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("promotion_id", sa.String(64), sa.ForeignKey("promotions.id"), nullable=False),
        sa.Column("usage_limit", sa.Integer, nullable=True),
        sa.Column("per_customer_limit", sa.Integer, nullable=True),
        sa.Column("used", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("usage_limit IS NULL OR used <= usage_limit", name=op.f("ck_coupons_within_limit")),
    )
    op.create_index("ix_coupons_promotion_id", "coupons", ["promotion_id"])
    op.create_table(
        "coupon_customer_usage",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("customer_key", sa.String(140), nullable=False),
        sa.Column("used", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("code", "customer_key", name="pk_coupon_customer_usage"),
    )
    op.create_table(
        "promotion_redemptions",
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("promotion_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("customer_key", sa.String(140), nullable=False),
        sa.Column("coupon_codes", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "promotion_id", name="pk_promotion_redemptions"),
    )


def downgrade() -> None:
    for table in ("promotion_redemptions", "coupon_customer_usage", "coupons", "promotion_customer_usage",
                  "promotion_usage", "promotions"):
        op.drop_table(table)
