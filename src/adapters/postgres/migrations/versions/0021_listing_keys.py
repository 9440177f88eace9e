"""catalog listing and order lists at size: sort keys and memberships as indexed rows

``read.product_listing``: one row per active product, scope (``''`` for the whole catalog, else each
category the product names directly) and currency (``''`` plus every currency of
``read.listing_currencies``), holding the sort keys a listing orders by: the lowest price in that
currency (0 without one, as the listing has always sorted such products), the lower-cased name and the
id (ids are time-ordered: newest). Every listing and category page is then an index range scan in
its sort order, with keyset pagination on the same keys. ``read.listing_currencies``: every currency
any listed product has had a price in; each listed product has a row for each of them. The catalog
projection keeps both in step with ``read.products``; this migration fills them from the documents.

Order lists (``read.order_summaries``): indexes that match ``ORDER BY placed_at DESC, id DESC`` under
the customer and the status filters.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "listing_currencies",
        sa.Column("currency", sa.String(3), primary_key=True),
        schema="read",
    )
    op.create_table(
        "product_listing",
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("scope", "currency", "product_id", name="pk_product_listing"),
        schema="read",
    )
    op.create_index("ix_read_product_listing_price", "product_listing", ["scope", "currency", "price", "product_id"],
                    schema="read")
    op.create_index("ix_read_product_listing_name", "product_listing",
                    ["scope", "currency", "name_key", "product_id"], schema="read")
    op.create_index("ix_read_product_listing_product", "product_listing", ["product_id"], schema="read")
    op.execute("""
        INSERT INTO read.listing_currencies (currency)
        SELECT DISTINCT price->>'currency'
        FROM read.products, jsonb_array_elements(document->'price_from') AS price
        WHERE document->>'status' = 'active'
    """)
    op.execute("""
        WITH active AS (
            SELECT id, document FROM read.products WHERE document->>'status' = 'active'
        ), scopes AS (
            SELECT id, '' AS scope FROM active
            UNION
            SELECT id, category_id FROM active, jsonb_array_elements_text(document->'category_ids') AS category_id
        ), currencies AS (
            SELECT '' AS currency UNION ALL SELECT currency FROM read.listing_currencies
        )
        INSERT INTO read.product_listing (scope, currency, product_id, price, name_key)
        SELECT s.scope, c.currency, a.id,
               COALESCE((SELECT (p->>'amount')::bigint FROM jsonb_array_elements(a.document->'price_from') AS p
                         WHERE p->>'currency' = c.currency LIMIT 1), 0),
               lower(a.document->>'name')
        FROM active AS a JOIN scopes AS s ON s.id = a.id CROSS JOIN currencies AS c
    """)
    op.execute("ANALYZE read.product_listing")

    op.create_index("ix_read_order_summaries_customer_placed", "order_summaries", ["customer_id", "placed_at", "id"],
                    schema="read")
    op.drop_index("ix_read_order_summaries_customer", "order_summaries", schema="read")
    op.create_index("ix_read_order_summaries_status_placed", "order_summaries", ["status", "placed_at", "id"],
                    schema="read")


def downgrade() -> None:
    op.drop_index("ix_read_order_summaries_status_placed", "order_summaries", schema="read")
    op.create_index("ix_read_order_summaries_customer", "order_summaries", ["customer_id", "placed_at"],
                    schema="read")
    op.drop_index("ix_read_order_summaries_customer_placed", "order_summaries", schema="read")
    op.drop_table("product_listing", schema="read")
    op.drop_table("listing_currencies", schema="read")
