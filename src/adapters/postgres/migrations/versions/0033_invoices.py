"""invoicing: invoices and credit notes, numbered gaplessly per series from a counter row

``emporium_next_document_number(series)`` takes the next number of a series: it inserts or increments the
series' counter row, which stays locked until the calling transaction ends. A transaction that rolls
back gives its number back with it (unlike a sequence), so the numbers of a series have no gaps.

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_counters",
        sa.Column("series", sa.String(32), primary_key=True),
        sa.Column("last_number", sa.BigInteger, nullable=False),
        sa.CheckConstraint("last_number > 0", name="document_counter_positive"),
    )
    op.create_table(
        "invoice_documents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("series", sa.String(32), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("refund_reference", sa.Text),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("pdf_key", sa.Text),
        sa.UniqueConstraint("series", "sequence", name="uq_invoice_documents_number"),
        sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name="invoice_document_kind"),
    )
    op.create_index("ix_invoice_documents_order", "invoice_documents", ["order_id"])
    op.create_index("uq_invoice_documents_one_invoice", "invoice_documents", ["order_id"], unique=True,
                    postgresql_where=sa.text("kind = 'invoice'"))
    op.create_index("uq_invoice_documents_one_credit_note", "invoice_documents", ["order_id", "refund_reference"],
                    unique=True, postgresql_where=sa.text("kind = 'credit_note'"))
    op.execute("""
        CREATE FUNCTION emporium_next_document_number(p_series text) RETURNS bigint
        LANGUAGE sql VOLATILE AS $$
            INSERT INTO document_counters AS c (series, last_number) VALUES (p_series, 1)
            ON CONFLICT (series) DO UPDATE SET last_number = c.last_number + 1
            RETURNING last_number
        $$
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION emporium_next_document_number(text)")
    op.drop_table("invoice_documents")
    op.drop_table("document_counters")
