"""Audit row 5: e-mail leaves over verified TLS, and credentials never travel in plain text.

The SMTP servers here are aiosmtpd on 127.0.0.1 with a certificate from a throwaway CA
(``tests/support/tls.py``); the notifier trusts that CA only when told to (``smtp_cafile``).
"""

from __future__ import annotations

import ssl
import uuid
from pathlib import Path

import pytest

from adapters.smtp.notifier import InsecureSmtp, SmtpNotifier
from adapters.system.clock import SystemClock
from application.ports.notifier import Notification
from entrypoints.factories import make_notifier
from entrypoints.settings import from_environ
from tests.support.tls import Certificates, make_certificates, smtp_tls_server
from tests.support.waiting import GENEROUS


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Certificates:
    return make_certificates(Path(tmp_path_factory.mktemp("tls")))


def _notification() -> Notification:
    return Notification(to="ada@example.com", template="password_reset", key=f"tls-{uuid.uuid4().hex}",
                        context={"name": "Ada", "token": "t" * 20, "expires_in_minutes": 60})


def _notifier(port: int, **options) -> SmtpNotifier:
    return SmtpNotifier("127.0.0.1", port=port, sender="Shop <shop@example.com>", timeout=GENEROUS, **options)


async def test_starttls_is_verified_and_the_login_goes_over_it(certificates) -> None:
    with smtp_tls_server(certificates) as box:
        notifier = _notifier(box.port, user="shop", password=box.password, cafile=str(certificates.ca))
        await notifier.send(_notification())
    assert len(box.messages) == 1
    assert box.logins == [("shop", True)]


async def test_a_certificate_no_trusted_ca_signed_is_refused_and_nothing_is_sent(certificates) -> None:
    with smtp_tls_server(certificates) as box:
        for options in ({}, {"user": "shop", "password": box.password}):
            with pytest.raises(ssl.SSLCertVerificationError):
                await _notifier(box.port, **options).send(_notification())
    assert box.messages == []
    assert box.logins == []


async def test_credentials_are_never_sent_to_a_server_without_tls() -> None:
    with smtp_tls_server(None, auth_in_plain_text=True) as box, pytest.raises(InsecureSmtp, match="STARTTLS"):
        await _notifier(box.port, user="shop", password=box.password).send(_notification())
    assert box.logins == []
    assert box.messages == []


def test_credentials_with_tls_switched_off_are_refused_at_start() -> None:
    with pytest.raises(InsecureSmtp):
        _notifier(25, user="shop", password="pw", starttls=False)
    settings = from_environ({"EMPORIUM_SMTP_HOST": "mail.example.com", "EMPORIUM_SMTP_USER": "shop",
                             "EMPORIUM_SMTP_PASSWORD": "pw", "EMPORIUM_SMTP_STARTTLS": "false"})
    with pytest.raises(InsecureSmtp):
        make_notifier(settings, engine=None, clock=None)


async def test_implicit_tls_is_used_when_configured(certificates, engine) -> None:
    with smtp_tls_server(certificates, implicit=True) as box:
        settings = from_environ({
            "EMPORIUM_SMTP_HOST": "127.0.0.1", "EMPORIUM_SMTP_PORT": str(box.port),
            "EMPORIUM_SMTP_IMPLICIT_TLS": "true", "EMPORIUM_SMTP_CAFILE": str(certificates.ca),
            "EMPORIUM_SMTP_USER": "shop", "EMPORIUM_SMTP_PASSWORD": box.password,
        })
        await _notifier(box.port, user="shop", password=box.password, implicit_tls=True,
                        cafile=str(certificates.ca)).send(_notification())
        await make_notifier(settings, engine=engine, clock=SystemClock()).send(_notification())
    assert len(box.messages) == 2
    assert box.logins == [("shop", True), ("shop", True)]


def test_port_465_means_implicit_tls() -> None:
    assert _notifier(465).implicit_tls
    assert not _notifier(587).implicit_tls
