"""One observing middleware: request id, access log line, and per-route request metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.metrics import LATENCY, REQUESTS
from entrypoints.logging import actor_var, request_id_var

logger = logging.getLogger("emporium.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def observe_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        actor_token = actor_var.set(None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                # The server's own time for this answer (standard Server-Timing: a browser's devtools and
                # the HTTP bench read it), the network and the client's queue left out.
                headers.append((b"server-timing", f"app;dur={(time.perf_counter() - started) * 1000:.2f}".encode()))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    # Personal or state-changing by default: only what opts in is cacheable.
                    headers.append((b"cache-control", b"private, no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            # The route template keeps label cardinality bounded.
            route = scope.get("path_template") or "unmatched"
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            # A load balancer's or the edge's liveness probe (every second) is logged only when it fails.
            probe = scope["path"] == "/health/live" and status == 200
            logger.log(
                logging.DEBUG if probe else logging.INFO, "%s %s %s", scope["method"], scope["path"], status,
                extra={
                    "method": scope["method"], "path": scope["path"], "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)
            actor_var.reset(actor_token)

    return middleware
