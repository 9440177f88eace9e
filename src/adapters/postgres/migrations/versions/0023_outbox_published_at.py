"""the outbox by moment of publication: the relay's sweep for messages a broker lost

The relay looks, every half minute, for messages published a few minutes ago that a consumer has not
processed (a broker restarted without persistence loses what it queued) and publishes them again. The
window is found by this index rather than by reading the whole outbox (kept a week).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX ix_outbox_published_at")
