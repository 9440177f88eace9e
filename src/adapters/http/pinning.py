"""An httpcore network backend that connects only to addresses the webhook policy has just checked.

httpcore asks the backend for a TCP connection to the URL's host name. Here that name is resolved once,
every address it resolves to is checked (``WebhookTargets.addresses``), and the socket is opened to one
of those checked addresses, never to the name, so no second lookup can answer differently (DNS
rebinding). TLS is unaffected: httpcore starts it on this stream with the URL's host name as
``server_hostname``, so SNI and the certificate check are for the name, and the Host header is the name.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore

from application.webhooks.errors import TargetRefused
from application.webhooks.targets import INVALID_URL, WebhookTargets

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class PinnedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, targets: WebhookTargets, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._targets = targets
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: httpcore.ConnectError | None = None
        for address in await self._targets.addresses(host, port):
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options,
                )
            except httpcore.ConnectError as error:  # the next checked address, as a resolver's order suggests
                failure = error
        assert failure is not None  # addresses() returns at least one address or raises
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused(INVALID_URL, "webhooks go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
