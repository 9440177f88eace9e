"""shipping: zones, methods and rates in tables staff edit (``/admin/shipping``)

The zones and methods move from the code into ``shipping_zones`` and ``shipping_methods``, seeded with the
table the code held, plus a method for every channel's currency (EUR, USD, GBP) in every zone: a USD cart to
Germany was offered nothing and could not check out. A method may be offered in part of its zone only
(``countries``, ``regions``).

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

# What domain/shipping/rates.py SEEDED_ZONES and SEEDED_METHODS held when this ran.
ZONES = [  # id, name, countries
    ("eu", "European Union", ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
                              "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]),
    ("uk", "United Kingdom", ["GB"]),
    ("us", "United States", ["US"]),
]
METHODS = [  # id, zone, name, currency, kind, amount, bands, free_over, days
    ("eu-standard", "eu", "Standard", "EUR", "flat", 490, [], 5000, "2-4"),
    ("eu-express", "eu", "Express", "EUR", "weight", 0, [[1000, 990], [5000, 1490], [20000, 2490]], None,
     "1-2"),
    ("uk-standard", "uk", "Standard", "GBP", "flat", 450, [], 5000, "2-5"),
    ("uk-eur-standard", "uk", "Standard", "EUR", "flat", 990, [], None, "3-6"),
    ("us-ground", "us", "Ground", "USD", "flat", 799, [], 7500, "3-7"),
    ("us-air", "us", "2-Day Air", "USD", "weight", 0, [[1000, 1599], [5000, 2499], [20000, 3999]], None, "2"),
    ("us-eur-international", "us", "International", "EUR", "flat", 1990, [], None, "5-10"),
    ("eu-gbp-standard", "eu", "Standard", "GBP", "flat", 890, [], None, "3-6"),
    ("eu-usd-international", "eu", "International", "USD", "flat", 1990, [], None, "5-10"),
    ("uk-usd-international", "uk", "International", "USD", "flat", 1990, [], None, "5-10"),
    ("us-gbp-international", "us", "International", "GBP", "flat", 1790, [], None, "5-10"),
]


def upgrade() -> None:
    zones = op.create_table(
        "shipping_zones",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("countries", ARRAY(sa.String(2)), nullable=False),
        sa.Column("regions", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_zones")),
    )
    methods = op.create_table(
        "shipping_methods",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("zone_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("bands", JSONB, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("free_over", sa.BigInteger, nullable=True),
        sa.Column("days", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("countries", ARRAY(sa.String(2)), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("regions", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_methods")),
        sa.ForeignKeyConstraint(["zone_id"], ["shipping_zones.id"],
                                name=op.f("fk_shipping_methods_zone_id_shipping_zones")),
        sa.CheckConstraint("kind IN ('flat', 'weight')", name=op.f("ck_shipping_methods_known_kind")),
        sa.CheckConstraint("amount >= 0 AND (free_over IS NULL OR free_over >= 0)",
                           name=op.f("ck_shipping_methods_amounts_not_negative")),
    )
    op.create_index(op.f("ix_shipping_methods_zone_id"), "shipping_methods", ["zone_id"])
    op.bulk_insert(zones, [{"id": i, "name": n, "countries": c, "regions": []} for i, n, c in ZONES])
    op.bulk_insert(methods, [
        {"id": i, "zone_id": z, "name": n, "currency": cur, "kind": k, "amount": a, "bands": b, "free_over": f,
         "days": d, "countries": [], "regions": []}
        for i, z, n, cur, k, a, b, f, d in METHODS
    ])


def downgrade() -> None:
    op.drop_table("shipping_methods")
    op.drop_table("shipping_zones")
