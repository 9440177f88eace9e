"""analytics: storefront tracking events and domain-event facts

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS analytics")
    op.create_table(
        "tracked_events",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("anonymous_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("properties", JSONB, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        schema="analytics",
    )
    op.create_index("ix_tracked_events_kind_day", "tracked_events", ["kind", "occurred_at"], schema="analytics")
    op.create_table(
        "domain_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("aggregate_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        schema="analytics",
    )
    op.create_index("ix_domain_events_topic_day", "domain_events", ["topic", "occurred_at"], schema="analytics")


def downgrade() -> None:
    op.drop_table("domain_events", schema="analytics")
    op.drop_table("tracked_events", schema="analytics")
    op.execute("DROP SCHEMA IF EXISTS analytics")
