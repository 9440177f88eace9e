"""categories: the tree (one versioned aggregate) and its read model

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(64)),
        sa.Column("position", sa.Integer, nullable=False),
        sa.UniqueConstraint("slug", name="uq_categories_slug"),
    )
    op.create_table(
        "category_tree",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO category_tree (id, version) VALUES ('categories', 0)")
    op.create_table(
        "categories",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("nodes", JSONB, nullable=False),
        schema="read",
    )


def downgrade() -> None:
    op.drop_table("categories", schema="read")
    op.drop_table("category_tree")
    op.drop_table("categories")
