"""When a request reached this process: the moment its first bytes were parsed, in the ASGI scope.

A waiting room places a shopper who joins after a drop opens by the moment the join arrived
(``entrypoints/http/pace.py``). Stamped in the application, that moment is when the request's turn came
on the event loop: at an opening, with thousands of joins a second, seconds after it arrived, and later
in one process than in the other — joins sent in one order were placed in another (Kendall's tau 0.33
between the shoppers' sending order and their places, at 20,000 buyers). The HTTP protocol stamps it
instead as the request's bytes are read, before any of the application's work is queued
(``scope[RECEIVED_AT]``, epoch seconds); ``serve`` runs uvicorn with this protocol.
"""

from __future__ import annotations

import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # uvicorn[standard] brings httptools

RECEIVED_AT = "emporium.received_at"


def received_at(scope: Any) -> float:
    """When the request's bytes were read (else now: a server that does not stamp)."""
    stamped = scope.get(RECEIVED_AT)
    return float(stamped) if stamped is not None else time.time()


class ArrivalStampingProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the moment each request began to arrive in its scope."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[RECEIVED_AT] = time.time()  # type: ignore[literal-required]
