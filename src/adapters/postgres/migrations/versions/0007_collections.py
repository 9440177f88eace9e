"""collections: manual, ordered product picks and their read model

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("product_ids", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("slug", name="uq_collections_slug"),
    )
    op.create_table(
        "collections",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("entry", JSONB, nullable=False),
        sa.UniqueConstraint("slug", name="uq_collections_slug"),
        schema="read",
    )


def downgrade() -> None:
    op.drop_table("collections", schema="read")
    op.drop_table("collections")
