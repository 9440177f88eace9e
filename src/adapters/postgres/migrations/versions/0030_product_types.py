"""product types: the attributes a kind of product has; products may name one; search facets follow them

``product_types`` keeps each type with its attribute definitions (JSONB, in order). ``products.product_type_id``
is optional (the products made before stay untyped) and references its type, so a type products use cannot be
deleted. ``search.documents.facet_tokens`` holds the tokens facets count (a typed product's facetable
attributes); the documents indexed before get all their tokens there, as their facets counted them.

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_types",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("definitions", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_types")),
        sa.UniqueConstraint("code", name=op.f("uq_product_types_code")),
    )
    op.add_column("products", sa.Column("product_type_id", sa.String(64), nullable=True))
    op.create_foreign_key(op.f("fk_products_product_type_id_product_types"), "products", "product_types",
                          ["product_type_id"], ["id"])
    op.create_index(op.f("ix_products_product_type_id"), "products", ["product_type_id"])
    op.add_column("documents", sa.Column("facet_tokens", sa.ARRAY(sa.Text), nullable=False,
                                         server_default="{}"), schema="search")
    op.execute("UPDATE search.documents SET facet_tokens = attr_tokens")


def downgrade() -> None:
    op.drop_column("documents", "facet_tokens", schema="search")
    op.drop_index(op.f("ix_products_product_type_id"), table_name="products")
    op.drop_constraint(op.f("fk_products_product_type_id_product_types"), "products", type_="foreignkey")
    op.drop_column("products", "product_type_id")
    op.drop_table("product_types")
