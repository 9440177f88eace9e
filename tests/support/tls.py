"""TLS for test servers: a throwaway CA and a certificate for 127.0.0.1/localhost (made with the
``openssl`` command line), and SMTP servers (aiosmtpd) that speak STARTTLS or implicit TLS with it."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.network import free_port
from tests.support.notify import Mailbox
from tests.support.waiting import GENEROUS


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the CA a client must be told to trust (it is in no system store)
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=GENEROUS)


def make_certificates(directory: Path) -> Certificates:
    """A CA and a server certificate it signed, for ``127.0.0.1`` and ``localhost``; fails without openssl."""
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is not installed (needed for the test CA): apt-get install -y openssl")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "san.cnf").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
    )
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=Emporium test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=directory)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "san.cnf", cwd=directory)
    return Certificates(ca=directory / "ca.pem", cert=directory / "server.pem", key=directory / "server.key")


@dataclass
class SecureMailbox(Mailbox):
    """A mailbox that also records each AUTH attempt and whether it came over TLS."""

    logins: list[tuple[str, bool]] = field(default_factory=list)
    password: str = "mail-password"
    implicit: bool = False  # the listener speaks nothing but TLS

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.logins.append((auth_data.login.decode(), self.implicit or session.ssl is not None))
        return AuthResult(success=auth_data.password.decode() == self.password)


@contextmanager
def smtp_tls_server(
    certificates: Certificates | None, *, implicit: bool = False, auth_in_plain_text: bool = False,
) -> Iterator[SecureMailbox]:
    """An SMTP server on 127.0.0.1 with AUTH: STARTTLS with ``certificates`` (required before AUTH and
    mail), implicit TLS when ``implicit``; with no certificates it offers no TLS at all (and, with
    ``auth_in_plain_text``, AUTH over the clear connection, the way a careless server does)."""
    mailbox = SecureMailbox(port=free_port(), implicit=implicit and certificates is not None)
    parameters: dict[str, Any] = {"authenticator": mailbox.authenticate}
    if certificates is None:
        parameters["auth_require_tls"] = not auth_in_plain_text
    elif implicit:
        # aiosmtpd counts only STARTTLS as TLS for AUTH; this listener is TLS from the first byte.
        parameters.update(ssl_context=certificates.server_context(), auth_require_tls=False)
    else:
        parameters.update(tls_context=certificates.server_context(), require_starttls=True)
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, ready_timeout=GENEROUS, **parameters)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
