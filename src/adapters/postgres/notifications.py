"""The log of e-mails sent, by notification key: what the once-only notifier checks before sending."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres import tables as t


class PostgresSentNotifications:
    """Each call is its own short transaction: the record must survive whatever the caller's
    transaction does next (the e-mail is out of our hands once SMTP accepted it)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def was_sent(self, key: str) -> bool:
        async with self._engine.connect() as conn:
            return await conn.scalar(select(t.sent_emails.c.key).where(t.sent_emails.c.key == key)) is not None

    async def record(self, key: str, *, to: str, template: str, at: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                pg_insert(t.sent_emails).values(key=key, recipient=to, template=template, sent_at=at)
                .on_conflict_do_nothing()
            )
