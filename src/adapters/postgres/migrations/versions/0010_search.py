"""search: pg_trgm, the ``search`` schema (documents with a per-language tsvector, vocabulary, synonyms)
and the merchandising tables (synonym groups, pin/boost/bury rules, redirects)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REGCONFIG, TSVECTOR

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TSV = (
    "setweight(to_tsvector(language, name), 'A') || setweight(to_tsvector(language, keywords), 'B')"
    " || setweight(to_tsvector(language, description), 'C')"
)


def upgrade() -> None:
    # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE SCHEMA IF NOT EXISTS search")
    op.create_table(
        "documents",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("keywords", sa.Text, nullable=False),
        sa.Column("language", REGCONFIG, nullable=False, server_default=sa.text("'english'::regconfig")),
        sa.Column("category_ids", ARRAY(sa.Text), nullable=False),
        sa.Column("attr_tokens", ARRAY(sa.Text), nullable=False),
        sa.Column("prices", JSONB, nullable=False),
        sa.Column("in_stock", sa.Boolean, nullable=False),
        sa.Column("sold", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tsv", TSVECTOR, sa.Computed(TSV, persisted=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        schema="search",
    )
    op.create_index(op.f("ix_search_documents_tsv"), "documents", ["tsv"], schema="search", postgresql_using="gin")
    op.create_index(op.f("ix_search_documents_category_ids"), "documents", ["category_ids"], schema="search",
                    postgresql_using="gin")
    op.create_index(op.f("ix_search_documents_attr_tokens"), "documents", ["attr_tokens"], schema="search",
                    postgresql_using="gin")
    op.create_table(
        "terms",
        sa.Column("term", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_terms")),
        schema="search",
    )
    op.create_index(op.f("ix_search_terms_trgm"), "terms", ["term"], schema="search", postgresql_using="gin",
                    postgresql_ops={"term": "gin_trgm_ops"})
    op.create_index(op.f("ix_search_terms_prefix"), "terms", ["term"], schema="search",
                    postgresql_ops={"term": "text_pattern_ops"})
    op.create_table(
        "synonyms",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("terms", ARRAY(sa.Text), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synonyms")),
        schema="search",
    )
    op.create_table(
        "search_synonym_groups",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("terms", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_synonym_groups")),
    )
    op.create_table(
        "search_rules",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("query", sa.Text),
        sa.Column("category_id", sa.String(64)),
        sa.Column("product_ids", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_rules")),
    )
    op.create_table(
        "search_redirects",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_redirects")),
        sa.UniqueConstraint("query", name=op.f("uq_search_redirects_query")),
    )


def downgrade() -> None:
    op.drop_table("search_redirects")
    op.drop_table("search_rules")
    op.drop_table("search_synonym_groups")
    op.drop_table("synonyms", schema="search")
    op.drop_table("terms", schema="search")
    op.drop_table("documents", schema="search")
    op.execute("DROP SCHEMA IF EXISTS search")
