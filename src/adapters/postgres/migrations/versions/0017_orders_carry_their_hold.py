"""orders: an order carries its stock hold and the guest who placed it

Orders and payments used to read the order's checkout to find its reservation and, for a
guest, to check who may see it. Both are now fields of the order itself (``reservation_id``,
``guest_id`` in its document); this fills them in for orders placed before. A checkout never
changes once placed, so the values copied are the ones the old code read.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE orders o
        SET data = o.data || jsonb_build_object(
            'reservation_id', c.data -> 'reservation_id',
            'guest_id', CASE WHEN c.owner LIKE 'guest:%' THEN to_jsonb(substr(c.owner, 7)) ELSE 'null'::jsonb END
        )
        FROM checkouts c
        WHERE c.id = o.checkout_id AND NOT (o.data ? 'reservation_id')
        """
    )


def downgrade() -> None:
    op.execute("UPDATE orders SET data = data - 'reservation_id' - 'guest_id'")
