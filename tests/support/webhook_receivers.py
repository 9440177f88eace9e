"""Webhook receivers on 127.0.0.1 for the SSRF tests: a fixed answer (optionally over TLS with a certificate
for a made-up name), and a listener that accepts connections and never answers."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.notify import Received


@dataclass
class Receiver:
    port: int
    scheme: str
    requests: list[Received] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)  # the TLS SNI of each handshake

    def url(self, host: str = "127.0.0.1", path: str = "/hook") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for ``name`` (it is its own CA): ``client_context()`` trusts only it."""

    name: str
    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(directory: Path, name: str) -> Certificate:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is not installed (needed for a test certificate): apt-get install -y openssl")
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}", "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )
    return Certificate(name, cert, key)


@contextmanager
def receiver(
    status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None,
    certificate: Certificate | None = None,
) -> Iterator[Receiver]:
    """Answers every POST with ``status``, ``headers`` and ``body``, and keeps each request."""
    state = Receiver(port=0, scheme="https" if certificate else "http")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(Received(dict(self.headers.items()), data, status))
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            return  # a refused handshake is what some tests expect

    server = Server(("127.0.0.1", 0), Handler)
    if certificate is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate.cert, certificate.key)
        context.sni_callback = lambda _sock, name, _ctx: state.server_names.append(name)  # type: ignore[assignment]
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port that accepts TCP connections and never says anything: a target that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])
