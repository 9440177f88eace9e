"""drop tickets: the checkout that used the admission

An admission token is good for one checkout: the payment that holds the stock records its checkout on the
ticket in the same transaction, only where no other checkout has.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("drop_tickets", sa.Column("used_by", sa.String(64)))


def downgrade() -> None:
    op.drop_column("drop_tickets", "used_by")
