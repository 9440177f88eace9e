"""analytics: domain-event facts looked up by aggregate (the sales reports join an order's facts)

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Top products and promotion impact find the OrderPlaced fact of each order paid in the range.
    op.create_index(
        "ix_domain_events_aggregate_topic", "domain_events", ["aggregate_id", "topic"], schema="analytics"
    )


def downgrade() -> None:
    op.drop_index("ix_domain_events_aggregate_topic", table_name="domain_events", schema="analytics")
