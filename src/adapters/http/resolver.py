"""The system's resolver (``getaddrinfo``, in the loop's thread pool) behind the webhook ``Resolver`` port."""

from __future__ import annotations

import asyncio
import socket

from application.webhooks.errors import HostNotFound


class SystemResolver:
    async def resolve(self, host: str, port: int) -> list[str]:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP,
            )
        except (socket.gaierror, UnicodeError):
            raise HostNotFound(host) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if not addresses:
            raise HostNotFound(host)
        return addresses
