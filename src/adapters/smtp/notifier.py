"""The SMTP ``Notifier``: renders the template and hands the message to a mail server."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from adapters.smtp.templates import TemplateRenderer
from application.ports.notifier import Notification

logger = logging.getLogger(__name__)

KEY_HEADER = "X-Emporium-Notification"


class SmtpNotifier:
    """smtplib in a worker thread (one connection per message: e-mails are few and the
    worker has threads to spare). Failures raise, so the delivering consumer retries."""

    def __init__(
        self, host: str, *, port: int = 25, sender: str, user: str = "", password: str = "",
        starttls: bool = True, timeout: float = 15.0, renderer: TemplateRenderer | None = None,
        domain: str = "emporium.local",
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._user = user
        self._password = password
        self._starttls = starttls
        self._timeout = timeout
        self._renderer = renderer or TemplateRenderer()
        self._domain = domain

    def message(self, notification: Notification) -> EmailMessage:
        rendered = self._renderer.render(notification.template, notification.context)
        message = EmailMessage()
        message["Subject"] = rendered.subject
        message["From"] = self._sender
        message["To"] = notification.to
        message["Date"] = formatdate(localtime=False, usegmt=True)
        if notification.key:
            # The same key gives the same Message-ID: a duplicate that slips through is recognisable.
            digest = hashlib.sha256(notification.key.encode()).hexdigest()[:32]
            message["Message-ID"] = f"<{digest}@{self._domain}>"
            message[KEY_HEADER] = notification.key
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message

    def _deliver(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            smtp.ehlo()
            if self._starttls and smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            if self._user:
                smtp.login(self._user, self._password)
            smtp.send_message(message)

    async def send(self, notification: Notification) -> None:
        message = self.message(notification)
        await asyncio.to_thread(self._deliver, message)
        logger.info("e-mail %s sent to %s", notification.template, notification.to)
