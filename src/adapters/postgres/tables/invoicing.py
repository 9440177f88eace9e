"""Invoicing: issued invoices and credit notes, and one counter row per number series."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

document_counters = Table(
    "document_counters", metadata,
    Column("series", String(32), primary_key=True),
    Column("last_number", BigInteger, nullable=False),
    CheckConstraint("last_number > 0", name="document_counter_positive"),
)

invoice_documents = Table(
    "invoice_documents", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("series", String(32), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("refund_reference", Text),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("body", JSONB, nullable=False),
    Column("pdf_key", Text),
    UniqueConstraint("series", "sequence", name="uq_invoice_documents_number"),
    CheckConstraint("kind IN ('invoice', 'credit_note')", name="invoice_document_kind"),
    Index("ix_invoice_documents_order", "order_id"),
    Index("uq_invoice_documents_one_invoice", "order_id", unique=True,
          postgresql_where=text("kind = 'invoice'")),
    Index("uq_invoice_documents_one_credit_note", "order_id", "refund_reference", unique=True,
          postgresql_where=text("kind = 'credit_note'")),
)
