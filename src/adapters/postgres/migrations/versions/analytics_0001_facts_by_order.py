"""analytics: domain-event facts looked up by aggregate (the sales reports join an order's facts)

Revision ID: analytics_0001
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "analytics_0001"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Top products and promotion impact find the OrderPlaced fact of each order paid in the range.
    op.create_index(
        "ix_domain_events_aggregate_topic", "domain_events", ["aggregate_id", "topic"], schema="analytics"
    )


def downgrade() -> None:
    op.drop_index("ix_domain_events_aggregate_topic", table_name="domain_events", schema="analytics")
