"""The SMTP ``Notifier``: renders the template and hands the message to a mail server."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from adapters.smtp.templates import TemplateRenderer
from application.ports.notifier import Notification

logger = logging.getLogger(__name__)

KEY_HEADER = "X-Emporium-Notification"


IMPLICIT_TLS_PORT = 465


class InsecureSmtp(RuntimeError):
    """Sending would put the SMTP credentials on the wire in plain text: refused."""


class SmtpNotifier:
    """smtplib in a worker thread (one connection per message: e-mails are few and the
    worker has threads to spare). Failures raise, so the delivering consumer retries.

    TLS is always verified (``ssl.create_default_context``: the system's CAs, or ``cafile``): implicit
    TLS when ``implicit_tls`` or on port 465, else STARTTLS whenever the server offers it. With a
    ``user`` set, TLS is required: a server that offers no STARTTLS gets no AUTH (``InsecureSmtp``),
    and switching STARTTLS off with credentials is refused at construction."""

    def __init__(
        self, host: str, *, port: int = 25, sender: str, user: str = "", password: str = "",
        starttls: bool = True, timeout: float = 15.0, renderer: TemplateRenderer | None = None,
        domain: str = "emporium.local", implicit_tls: bool = False, cafile: str = "",
    ) -> None:
        self.implicit_tls = implicit_tls or port == IMPLICIT_TLS_PORT
        if user and not (starttls or self.implicit_tls):
            raise InsecureSmtp("SMTP credentials need TLS: enable STARTTLS or implicit TLS (port 465)")
        self._cafile = cafile or None
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

    def _connect(self, context: ssl.SSLContext) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout)

    def _deliver(self, message: EmailMessage) -> None:
        # A fresh context per message: the CA file may be replaced (rotated) while the worker runs.
        context = ssl.create_default_context(cafile=self._cafile)
        with self._connect(context) as smtp:
            smtp.ehlo()
            if not self.implicit_tls:
                if self._starttls and smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif self._user:
                    raise InsecureSmtp(
                        f"{self._host}:{self._port} offers no STARTTLS: the SMTP credentials are not sent in plain text"
                    )
            if self._user:
                smtp.login(self._user, self._password)
            smtp.send_message(message)

    async def send(self, notification: Notification) -> None:
        message = self.message(notification)
        await asyncio.to_thread(self._deliver, message)
        logger.info("e-mail %s sent to %s", notification.template, notification.to)
