"""categories and collections: products found by category, deleted collections kept as tombstones

A category's rename, move or delete finds the products naming it (``category_ids ?| …``, answered by a GIN
index); a deleted collection leaves its read row without a slug, so a late change cannot bring its page back.

Revision ID: 0028
Revises: 0026
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_products_category_ids", "products", ["category_ids"], postgresql_using="gin")
    op.alter_column("collections", "slug", nullable=True, schema="read")


def downgrade() -> None:
    op.execute("DELETE FROM read.collections WHERE slug IS NULL")
    op.alter_column("collections", "slug", nullable=False, schema="read")
    op.drop_index("ix_products_category_ids", table_name="products")
