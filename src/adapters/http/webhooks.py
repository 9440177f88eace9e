"""Webhook POSTs over httpcore (httpx's transport layer): one request per attempt, pinned to checked
addresses, no redirects followed, a bounded time, and a short fixed reason when there is no answer.

The URL is checked against the webhook policy before anything is sent (a row stored before the rules
existed is refused too), and the connection goes through ``PinnedBackend``: the host is resolved at
send time and every address checked. The response body is never read, and the target's error text
never reaches the delivery log: ``WebhookUnreachable`` carries one of the fixed reasons below.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

import httpcore

from adapters.http.pinning import PinnedBackend
from application.ports.webhooks import WebhookRequest, WebhookUnreachable
from application.webhooks.errors import HostNotFound, TargetRefused
from application.webhooks.targets import WebhookTargets


class HttpxWebhookSender:
    def __init__(
        self, targets: WebhookTargets, *, timeout: float = 10.0, ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._targets = targets
        self._timeout = timeout
        self._ssl_context = ssl_context  # None: the system's CAs (certifi), hostnames checked
        self._pool: httpcore.AsyncConnectionPool | None = None

    def _http(self) -> httpcore.AsyncConnectionPool:
        # Created lazily on the loop that uses it (Dramatiq's AsyncIO middleware runs one loop per worker).
        if self._pool is None:
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=self._ssl_context, network_backend=PinnedBackend(self._targets), retries=0,
                max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0,
            )
        return self._pool

    async def send(self, request: WebhookRequest) -> int:
        self._targets.target(request.url)  # TargetRefused: the URL itself breaks the rules
        limits = dict.fromkeys(("connect", "read", "write", "pool"), self._timeout)
        try:
            async with asyncio.timeout(self._timeout):  # the whole attempt, however the target dribbles
                async with self._http().stream(
                    "POST", request.url, headers=list(request.headers.items()), content=request.body,
                    extensions={"timeout": limits},
                ) as response:
                    return response.status  # the body is not read: whatever it says stays out of the log
        except TargetRefused:
            raise
        except HostNotFound:
            raise WebhookUnreachable("dns error") from None
        except (TimeoutError, httpcore.TimeoutException):
            raise WebhookUnreachable("timeout") from None
        except httpcore.ConnectError as error:
            raise WebhookUnreachable(_connect_reason(error)) from None
        except httpcore.ProtocolError:
            raise WebhookUnreachable("protocol error") from None
        except (httpcore.NetworkError, httpcore.UnsupportedProtocol, httpcore.ProxyError, OSError):
            raise WebhookUnreachable("connection error") from None

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


def _connect_reason(error: BaseException) -> str:
    causes = list(_chain(error))
    if any(isinstance(c, ssl.SSLError | ssl.CertificateError) for c in causes):
        return "tls error"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "connection refused"
    return "connection failed"


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """The error, what caused it, and (for a group) each member's chain."""
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend([current.__cause__, current.__context__])
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
