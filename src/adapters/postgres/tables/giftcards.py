"""Gift cards."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Integer, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from adapters.postgres.tables.base import metadata

gift_cards = Table(
    "gift_cards", metadata,
    Column("code", String(32), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
)
