"""inventory: committed units stay on hand until shipped

Paid orders' units used to leave on-hand at payment, so a stock count between payment and
shipment disagreed with the shelves. Now a commit moves units from reserved to committed and a
shipment takes them out of on-hand. Reservations committed before this revision already left
on-hand: they count as shipped.

The new columns keep a default of 0, so processes still running the previous release while it
rolls out go on inserting rows; whatever they reserve, the new CHECK still refuses to oversell.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stock_items", sa.Column("committed", sa.BigInteger, nullable=False, server_default="0"))
    op.create_check_constraint(op.f("ck_stock_items_committed_not_negative"), "stock_items", "committed >= 0")
    # 0003 named it before the naming convention was applied, hence the doubled prefix.
    op.drop_constraint(op.f("ck_stock_items_ck_stock_items_available_not_negative"), "stock_items", type_="check")
    # available = on_hand - reserved - committed never goes below zero: the last line of defence.
    op.create_check_constraint(
        op.f("ck_stock_items_available_not_negative"), "stock_items", "on_hand >= reserved + committed"
    )
    # A new column with a constant default is metadata only: the append-only trigger sees no UPDATE.
    op.add_column("stock_movements", sa.Column("committed_delta", sa.BigInteger, nullable=False, server_default="0"))
    op.execute("UPDATE reservations SET status = 'shipped', version = version + 1 WHERE status = 'committed'")


def downgrade() -> None:
    # The old rules had sold units leave on-hand at payment: take committed units out of on-hand,
    # with a ledger entry each, so ledger = balance still holds without committed_delta.
    op.execute(
        """
        INSERT INTO stock_movements
            (sku, location_id, kind, on_hand_delta, reserved_delta, committed_delta, actor, reason, reference,
             occurred_at)
        SELECT sku, location_id, 'committed', -committed, 0, 0, 'migration', 'downgrade 0016', '', now()
        FROM stock_items WHERE committed > 0
        """
    )
    op.execute("UPDATE stock_items SET on_hand = on_hand - committed, committed = 0 WHERE committed > 0")
    op.execute("UPDATE reservations SET status = 'committed' WHERE status = 'shipped'")
    op.drop_column("stock_movements", "committed_delta")
    op.drop_constraint(op.f("ck_stock_items_available_not_negative"), "stock_items", type_="check")
    op.create_check_constraint(
        op.f("ck_stock_items_ck_stock_items_available_not_negative"), "stock_items", "on_hand >= reserved"
    )
    op.drop_constraint(op.f("ck_stock_items_committed_not_negative"), "stock_items", type_="check")
    op.drop_column("stock_items", "committed")
