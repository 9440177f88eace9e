"""The development notifier, used when no SMTP host is configured: it logs, it never sends."""

from __future__ import annotations

import logging

from application.ports.notifier import Notification

logger = logging.getLogger(__name__)


class LoggingNotifier:
    """Logs the template and recipient (never the context: it holds tokens)."""

    async def send(self, notification: Notification) -> None:
        logger.info("notification %s to %s", notification.template, notification.to)
