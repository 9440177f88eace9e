"""buyer holdings: what each buyer holds of a SKU a drop caps per buyer

One row per reservation, SKU and way of knowing the buyer (account, session, e-mail, address). The cap
is checked in the transaction that places the hold, with the SKU's stock rows locked, by summing the
rows whose reservation still counts; the index serves that sum.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "buyer_holdings",
        sa.Column("reservation_id", sa.String(64),
                  sa.ForeignKey("reservations.id", name=op.f("fk_buyer_holdings_reservation_id_reservations")),
                  primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("buyer", sa.String(300), primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("cap", sa.Integer, nullable=False),
        sa.CheckConstraint("quantity > 0 AND quantity <= cap", name=op.f("ck_buyer_holdings_quantity_within_cap")),
    )
    op.create_index("ix_buyer_holdings_sku_buyer", "buyer_holdings", ["sku", "buyer"])


def downgrade() -> None:
    op.drop_table("buyer_holdings")
