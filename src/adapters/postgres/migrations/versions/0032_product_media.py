"""media: a product's uploaded images (the gallery), with alt text, variants and renditions

One row per product that has images: the images in display order as JSON, and the gallery's version
for optimistic saves. The objects themselves live in the media storage (files or a bucket).

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_galleries",
        sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("images", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("product_galleries")
