"""Webhook POSTs over httpx: one request per attempt, no redirects, a bounded timeout."""

from __future__ import annotations

import httpx

from application.ports.webhooks import WebhookRequest, WebhookUnreachable


class HttpxWebhookSender:
    def __init__(self, *, timeout: float = 10.0) -> None:
        self._client: httpx.AsyncClient | None = None
        self._timeout = timeout

    def _http(self) -> httpx.AsyncClient:
        # Created lazily on the loop that uses it (Dramatiq's AsyncIO middleware runs one loop per worker).
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        return self._client

    async def send(self, request: WebhookRequest) -> int:
        try:
            response = await self._http().post(request.url, content=request.body, headers=request.headers)
        except httpx.HTTPError as exc:
            raise WebhookUnreachable(f"{type(exc).__name__}: {exc}") from None
        return response.status_code

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
