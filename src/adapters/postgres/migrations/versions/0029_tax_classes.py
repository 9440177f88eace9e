"""tax: a tax class per product, and the sales-tax rates the merchant keeps per US state

Every product is ``standard`` until a merchandiser says otherwise. The US states' sales tax moves from the
code into a table the merchant edits (``/admin/tax/us-states``), seeded with the four states the code
knew; European VAT comes from a pinned data package and is not stored.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

SEEDED = [  # the rates domain/tax/rates.py SEEDED_US_STATES held when this ran
    ("US", "CA", "standard", 725, "CA sales tax"),
    ("US", "NY", "standard", 400, "NY sales tax"),
    ("US", "TX", "standard", 625, "TX sales tax"),
    ("US", "WA", "standard", 650, "WA sales tax"),
]


def upgrade() -> None:
    op.add_column("products", sa.Column("tax_class", sa.String(16), nullable=False, server_default="standard"))
    rates = op.create_table(
        "tax_rates",
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("tax_class", sa.String(16), nullable=False),
        sa.Column("basis_points", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("country", "region", "tax_class"),
        sa.CheckConstraint("basis_points BETWEEN 0 AND 10000", name=op.f("ck_tax_rates_rate_in_range")),
    )
    op.bulk_insert(rates, [
        {"country": c, "region": r, "tax_class": k, "basis_points": bp, "name": n} for c, r, k, bp, n in SEEDED
    ])


def downgrade() -> None:
    op.drop_table("tax_rates")
    op.drop_column("products", "tax_class")
