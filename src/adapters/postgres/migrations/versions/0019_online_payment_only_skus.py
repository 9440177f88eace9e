"""catalog: a variant can require online payment

``product_variants.requires_online_payment``: a merchandiser marks a SKU that pay-later (manual)
payment may not buy. Existing variants keep pay-later (false).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "product_variants",
        sa.Column("requires_online_payment", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("product_variants", "requires_online_payment")
