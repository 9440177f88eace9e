"""catalog listing: a GIN index over product documents for category and attribute filters

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_read_products_document ON read.products USING gin (document)")


def downgrade() -> None:
    op.execute("DROP INDEX read.ix_read_products_document")
