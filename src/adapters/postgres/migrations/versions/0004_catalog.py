"""catalog: options, variants with unique SKUs, attributes, status, media; price lists

The proving slice's one-SKU products become products with one variant, and their prices move
into one default price list per currency.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name, kind, default in (
        ("description", sa.Text, "''"), ("status", sa.String(16), "'active'"), ("options", JSONB, "'[]'"),
        ("attributes", JSONB, "'{}'"), ("category_ids", JSONB, "'[]'"), ("media", JSONB, "'[]'"),
    ):
        op.add_column("products", sa.Column(name, kind, nullable=False, server_default=sa.text(default)))
    op.create_table(
        "product_variants",
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("option_values", JSONB, nullable=False),
        sa.Column("weight_grams", sa.Integer, nullable=False),
        sa.Column("barcode", sa.String(64)),
        sa.Column("components", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("sku", name="pk_product_variants"),
    )
    op.create_index("ix_product_variants_product_id", "product_variants", ["product_id"])
    op.create_table(
        "price_lists",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("version", sa.Integer, nullable=False),
    )
    # One list per currency and channel (NULL channel = every channel): resolution is unambiguous.
    op.execute("CREATE UNIQUE INDEX uq_price_lists_currency_channel ON price_lists (currency, coalesce(channel, ''))")
    op.create_table(
        "prices",
        sa.Column("price_list_id", sa.String(64), sa.ForeignKey("price_lists.id"), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("tiers", JSONB, nullable=False),
        sa.Column("sale_amount", sa.BigInteger),
        sa.Column("sale_starts_at", sa.DateTime(timezone=True)),
        sa.Column("sale_ends_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("price_list_id", "sku", name="pk_prices"),
        sa.CheckConstraint(
            "amount >= 0 AND (sale_amount IS NULL OR sale_amount >= 0)", name=op.f("ck_prices_not_negative")
        ),
    )
    op.execute(
        """
        INSERT INTO product_variants (sku, product_id, position, option_values, weight_grams, components)
            SELECT sku, id, 0, '{}', 0, '[]' FROM products;
        INSERT INTO price_lists (id, name, currency, channel, version)
            SELECT 'default-' || lower(currency), 'Default ' || currency, currency, NULL, 1
            FROM products GROUP BY currency;
        INSERT INTO prices (price_list_id, sku, amount, tiers)
            SELECT 'default-' || lower(currency), sku, price_amount, '[]' FROM products;
        """
    )
    # The product document changes shape: drop the old ones; `emporium projections rebuild`
    # (run by `emporium run`) writes them anew from the write side.
    op.execute("DELETE FROM read.products")
    op.drop_constraint("uq_products_sku", "products")
    op.drop_constraint("ck_products_ck_products_price_not_negative", "products")  # as 0001 named it
    for column in ("sku", "price_amount", "currency"):
        op.drop_column("products", column)


def downgrade() -> None:
    op.add_column("products", sa.Column("sku", sa.String(64)))
    op.add_column("products", sa.Column("price_amount", sa.BigInteger))
    op.add_column("products", sa.Column("currency", sa.String(3)))
    op.execute(
        """
        UPDATE products p SET sku = v.sku FROM product_variants v WHERE v.product_id = p.id AND v.position = 0;
        UPDATE products p SET price_amount = pr.amount, currency = pl.currency
            FROM prices pr JOIN price_lists pl ON pl.id = pr.price_list_id
            WHERE pr.sku = p.sku AND pl.channel IS NULL;
        """
    )
    op.drop_table("prices")
    op.drop_table("price_lists")
    op.drop_table("product_variants")
    for column in ("media", "category_ids", "attributes", "options", "status", "description"):
        op.drop_column("products", column)
