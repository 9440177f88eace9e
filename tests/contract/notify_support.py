"""Helpers for the webhook and e-mail tests: an order to talk about, a subscriber server, an SMTP server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from domain.orders.order import Order, OrderLine, Totals
from domain.shared.address import Address
from tests.support.waiting import GENEROUS


def new_order(unique: str, *, email: str = "ada@example.com") -> Order:
    address = Address(name="Ada <Lovelace>", line1="Unter den Linden 1", city="Berlin", postal_code="10117",
                      country="DE")
    line = OrderLine(id=f"l-{unique}", sku=f"BOOT-{unique}", product_id=f"p-{unique}", name="Boot & Lace",
                     quantity=2, unit_price=2500, subtotal=5000, discount=0, tax=798, total=5000)
    return Order.place(
        actor="test", now=datetime.now(UTC), id=f"o-{unique}", number=f"EMP-{unique}", checkout_id=f"c-{unique}",
        customer_id=None, email=email, channel="web", lines=(line,), tax_lines=(),
        totals=Totals(currency="EUR", subtotal=5000, discount=0, shipping=495, tax=798, total=5495,
                      prices_include_tax=True),
        shipping_address=address, billing_address=address, shipping_method="standard",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- a webhook subscriber ------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Subscriber:
    """Answers 500 to the first ``failures`` requests, then 200; keeps every request."""

    failures: int
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self) -> list[Received]:
        return [r for r in self.requests if r.answered == 200]


@contextmanager
def subscriber_server(failures: int = 2) -> Iterator[Subscriber]:
    state = Subscriber(failures=failures)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                status = 500 if len(state.requests) < state.failures else 200
                state.requests.append(Received(dict(self.headers.items()), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/emporium"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# -- an SMTP server --------------------------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(port=free_port())
    # ready_timeout bounds the server thread's start-up (5 s by default: tight on a busy machine).
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, ready_timeout=GENEROUS)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
