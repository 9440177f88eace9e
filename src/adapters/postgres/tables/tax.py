"""Tax: the sales-tax rates the merchant keeps per US state (European VAT comes from a data package)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, Integer, PrimaryKeyConstraint, String, Table, Text, text

from adapters.postgres.tables.base import metadata

tax_rates = Table(
    "tax_rates", metadata,
    Column("country", String(2), nullable=False),
    Column("region", String(8), nullable=False),
    Column("tax_class", String(16), nullable=False),
    Column("basis_points", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("country", "region", "tax_class"),
    CheckConstraint("basis_points BETWEEN 0 AND 10000", name="rate_in_range"),
)
