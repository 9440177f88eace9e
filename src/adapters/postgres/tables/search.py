"""Search merchandising: synonyms, rules and redirects."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

# Search: merchandising (write side) and the PostgreSQL search index (``search`` schema, see search_0001).

search_synonym_groups = Table(
    "search_synonym_groups", metadata,
    Column("id", String(64), primary_key=True),
    Column("terms", JSONB, nullable=False),
)

search_rules = Table(
    "search_rules", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("query", Text),
    Column("category_id", String(64)),
    Column("product_ids", JSONB, nullable=False),
)

search_redirects = Table(
    "search_redirects", metadata,
    Column("id", String(64), primary_key=True),
    Column("query", Text, nullable=False, unique=True),
    Column("url", Text, nullable=False),
)
