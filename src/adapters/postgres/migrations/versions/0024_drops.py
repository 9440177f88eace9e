"""drops: scheduled sales and their waiting-room tickets

A drop is kept in columns (its SKUs as an array with a GIN index: "which drop sells this SKU" is asked
on every cart add of a gated SKU and every payment). A ticket is recorded when it is issued, with the
random key that ranks it at opening, so a waiting room Redis forgot is rebuilt exactly.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drops",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("skus", ARRAY(sa.String(64)), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("per_customer_limit", sa.Integer),
        sa.Column("online_payment_only", sa.Boolean, nullable=False),
        sa.Column("waiting_room", sa.Boolean, nullable=False),
        sa.Column("admission_rate", sa.Float),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("sold_out_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint("per_customer_limit IS NULL OR per_customer_limit >= 1",
                           name=op.f("ck_drops_limit_positive")),
        sa.CheckConstraint("admission_rate IS NULL OR admission_rate > 0", name=op.f("ck_drops_rate_positive")),
        sa.CheckConstraint("ends_at IS NULL OR ends_at > opens_at", name=op.f("ck_drops_ends_after_opening")),
    )
    op.create_index("ix_drops_skus", "drops", ["skus"], postgresql_using="gin")
    op.create_table(
        "drop_tickets",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("drop_id", sa.String(64), sa.ForeignKey("drops.id", name=op.f("fk_drop_tickets_drop_id_drops")),
                  nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("draw_key", sa.Float, nullable=False),
        sa.Column("admitted_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("drop_id", "holder", name=op.f("uq_drop_tickets_drop_id")),
        sa.CheckConstraint("draw_key >= 0 AND draw_key < 1", name=op.f("ck_drop_tickets_draw_key_in_unit_interval")),
    )


def downgrade() -> None:
    op.drop_table("drop_tickets")
    op.drop_index("ix_drops_skus", table_name="drops")
    op.drop_table("drops")
