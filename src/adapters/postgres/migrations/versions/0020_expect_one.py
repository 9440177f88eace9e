"""writes checked inside the statement: ``emporium_expect_one``

An optimistic save (``UPDATE … WHERE version = <as read>``) used to be checked by the client after
the UPDATE came back, so it needed a transaction around it and a round trip of its own before the
COMMIT. ``emporium_expect_one(changed, what)`` raises SQLSTATE ``EM409`` unless exactly one row was
changed: a save and everything that goes with it (its outbox rows, the other aggregates of the unit of
work) can then travel as one statement, refused whole when the row changed since it was read.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION emporium_expect_one(changed bigint, what text) RETURNS bigint
        LANGUAGE plpgsql AS $$
        BEGIN
            IF changed <> 1 THEN
                RAISE EXCEPTION '% changed since it was read', what USING ERRCODE = 'EM409';
            END IF;
            RETURN changed;
        END $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION emporium_expect_one(bigint, text)")
