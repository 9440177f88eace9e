"""Stripe's test double for the payment tests: localstripe on a free 127.0.0.1 port, and an inbox for the
signed webhooks it sends.

localstripe is started by ``localstripe_server.py`` (beside this module) with its state in a folder of
the caller's, and its webhooks go to a small HTTP server of our own. If localstripe cannot start, the
tests that need it are skipped with the reason (``STRIPE CONTRACT NOT VERIFIED``); they never pass empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import stripe

from tests.support.network import free_port
from tests.support.waiting import GENEROUS, report

LAUNCHER = Path(__file__).with_name("localstripe_server.py")
API_KEY = "sk_test_emporium"


class WebhookInbox:
    """What localstripe POSTed to us: raw bodies with their ``Stripe-Signature`` header."""

    def __init__(self) -> None:
        self._deliveries: list[tuple[bytes, str]] = []
        self._arrived = threading.Condition()

    def record(self, body: bytes, signature: str) -> None:
        with self._arrived:
            self._deliveries.append((body, signature))
            self._arrived.notify_all()

    def wait_for(self, matches: Callable[[dict], bool], timeout: float = GENEROUS) -> tuple[bytes, str]:
        started = time.monotonic()
        with self._arrived:
            while True:
                for body, signature in self._deliveries:
                    if matches(json.loads(body)):
                        report("localstripe's webhook", started)
                        return body, signature
                left = started + timeout - time.monotonic()
                if left <= 0:
                    received = len(self._deliveries)
                    raise AssertionError(f"no matching webhook within {timeout:.0f}s ({received} received)")
                self._arrived.wait(left)


@contextmanager
def webhook_server() -> Iterator[tuple[WebhookInbox, str]]:
    """An HTTP server on 127.0.0.1 keeping every POST in an inbox; the inbox and the URL to POST to."""
    inbox = WebhookInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            inbox.record(body, self.headers.get("Stripe-Signature", ""))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox, f"http://127.0.0.1:{httpd.server_address[1]}/webhooks/stripe"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _skip_loudly(reason: str) -> None:
    message = f"STRIPE CONTRACT NOT VERIFIED — localstripe unavailable: {reason}"
    sys.stderr.write(f"\n*** {message}\n")
    pytest.skip(message)


@dataclass(frozen=True)
class LocalStripe:
    api_base: str
    webhook_secret: str
    inbox: WebhookInbox


@contextmanager
def running_localstripe(state: Path, inbox: WebhookInbox, webhook_url: str) -> Iterator[LocalStripe]:
    """localstripe serving on a free port with its state under ``state``, sending webhooks to ``webhook_url``;
    skips the calling test (saying why) when it cannot run."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (state / "localstripe.log").open("wb")
    try:
        process = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "--port", str(port), "--state", str(state)],
            cwd=state,
            env={**os.environ, "HOME": str(state)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    except OSError as exc:
        log.close()
        _skip_loudly(f"cannot run {LAUNCHER.name}: {exc}")
    try:
        _wait_until_answering(process, base, state / "localstripe.log")
        secret = f"whsec_{uuid.uuid4().hex}"
        answer = httpx.post(f"{base}/_config/webhooks/emporium", data={"url": webhook_url, "secret": secret},
                            timeout=GENEROUS)
        if answer.status_code != 200:
            _skip_loudly(f"webhook configuration refused: {answer.status_code} {answer.text}")
        _check_sdk_compatibility(base)
        yield LocalStripe(api_base=base, webhook_secret=secret, inbox=inbox)
    finally:
        process.terminate()
        try:
            process.wait(timeout=GENEROUS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_answering(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    started = time.monotonic()
    while time.monotonic() - started < GENEROUS:
        if process.poll() is not None:
            _skip_loudly(f"exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            # Each probe may take its time; the loop's bound is what limits the wait.
            if httpx.get(f"{base}/v1/payment_intents", auth=(API_KEY, ""), timeout=10).status_code == 200:
                report("localstripe to answer", started)
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # a polling interval
    _skip_loudly(f"no answer on {base} within {GENEROUS:.0f}s: {log.read_text(errors='replace')[-2000:]}")


def _check_sdk_compatibility(base: str) -> None:
    http = stripe.HTTPXClient(allow_sync_methods=True)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": base}, http_client=http)
    try:
        client.v1.payment_intents.list()
    except stripe.StripeError as exc:
        _skip_loudly(f"stripe SDK {stripe.VERSION} cannot talk to it: {exc!r}")
    finally:
        http.close()
