"""Sending a keyed notification at most once, across consumers, retries and processes."""

from __future__ import annotations

import logging

from application.ports.clock import Clock
from application.ports.notifier import Notification, Notifier, SentNotifications

logger = logging.getLogger(__name__)


class OnceNotifier:
    """Wraps a ``Notifier``: a notification whose key is in the sent log is dropped; after the
    mail server accepted one, its key is written to the log (in its own transaction).

    Outbox consumers already run at most once in effect per consumer (``processed_events``), but
    the mail server is outside their transaction: if the transaction fails after sending, the
    event is redelivered. The log closes that gap, and the one between two consumers (or a resend
    by hand) of the same event. What remains: a crash, or a failed log write, in the short window
    between the server accepting the message and the log row committing means the next delivery
    sends it again; and two deliveries of one key running at the very same moment can both pass the
    check. We accept those (rare) duplicates rather than claim the key first, which would lose the
    e-mail for good when the process died between the claim and the send.
    """

    def __init__(self, inner: Notifier, log: SentNotifications, clock: Clock) -> None:
        self._inner = inner
        self._log = log
        self._clock = clock

    async def send(self, notification: Notification) -> None:
        if notification.key and await self._log.was_sent(notification.key):
            logger.info("notification %s already sent; skipped", notification.key)
            return
        await self._inner.send(notification)
        if notification.key:
            await self._log.record(
                notification.key, to=notification.to, template=notification.template, at=self._clock.now(),
            )
