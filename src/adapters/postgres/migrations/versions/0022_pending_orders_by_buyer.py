"""a buyer's unpaid orders found by index: partial indexes on pending orders by e-mail, customer, guest

Every pay-later payment counts the buyer's unpaid orders (``PostgresOrders.unpaid``: pending, this
provider, this e-mail or customer or guest). With only ``(status, placed_at)`` that read every pending
order of the shop — during a pay-later sale, every order of the sale, for every payment. These partial
indexes hold pending orders only (they leave as soon as an order is paid or cancelled), so the count
reads the buyer's own rows whatever the shop's size.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_orders_pending_email ON orders (email) WHERE status = 'pending'")
    op.execute("CREATE INDEX ix_orders_pending_customer ON orders (customer_id) WHERE status = 'pending'")
    op.execute("CREATE INDEX ix_orders_pending_guest ON orders ((data ->> 'guest_id')) WHERE status = 'pending'")


def downgrade() -> None:
    op.execute("DROP INDEX ix_orders_pending_guest")
    op.execute("DROP INDEX ix_orders_pending_customer")
    op.execute("DROP INDEX ix_orders_pending_email")
