"""E-mail settings pick the notifier: SMTP with the once-only log when a host is set, else logging."""

from __future__ import annotations

from adapters.smtp.logging import LoggingNotifier
from adapters.system.clock import SystemClock
from application.notifications import OnceNotifier
from entrypoints.factories import make_notifier
from entrypoints.settings import from_environ


def test_an_smtp_host_selects_the_once_only_smtp_notifier() -> None:
    settings = from_environ({
        "EMPORIUM_SMTP_HOST": "mail.example.com", "EMPORIUM_SMTP_PORT": "2525", "EMPORIUM_SMTP_USER": "shop",
        "EMPORIUM_SMTP_PASSWORD": "pw", "EMPORIUM_SMTP_FROM": "Shop <shop@example.com>",
        "EMPORIUM_SMTP_IMPLICIT_TLS": "true", "EMPORIUM_SMTP_CAFILE": "/etc/ssl/relay-ca.pem",
    })
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == ("mail.example.com", 2525, True)
    assert (settings.smtp_implicit_tls, settings.smtp_cafile) == (True, "/etc/ssl/relay-ca.pem")
    assert isinstance(make_notifier(settings, engine=None, clock=SystemClock()), OnceNotifier)


def test_no_smtp_host_logs_notifications() -> None:
    settings = from_environ({"EMPORIUM_SMTP_HOST": ""})
    assert isinstance(make_notifier(settings, engine=None, clock=SystemClock()), LoggingNotifier)


def test_webhook_retry_settings_come_from_the_environment() -> None:
    settings = from_environ({"EMPORIUM_WEBHOOK_MAX_RETRIES": "3", "EMPORIUM_WEBHOOK_MIN_BACKOFF_MS": "50"})
    assert (settings.webhook_max_retries, settings.webhook_min_backoff_ms) == (3, 50)
