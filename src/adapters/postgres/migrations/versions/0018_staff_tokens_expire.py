"""staff: every token expires

Staff bearer tokens used to live until revoked. Each now has an ``expires_at``; tokens issued
before this revision get 90 days from now, so nobody is locked out by the upgrade itself.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE staff_tokens SET expires_at = now() + interval '90 days'")
    op.alter_column("staff_tokens", "expires_at", nullable=False)


def downgrade() -> None:
    op.drop_column("staff_tokens", "expires_at")
