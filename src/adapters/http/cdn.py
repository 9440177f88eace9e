"""CDN purge by surrogate key over HTTP (Fastly-style: one POST naming the keys)."""

from __future__ import annotations

import logging

import httpx

logger = logging.getLogger(__name__)


class HttpCdnPurger:
    def __init__(self, url: str, *, token: str = "", timeout: float = 5.0) -> None:
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout

    async def purge(self, surrogate_keys: list[str]) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            response = await client.post(
                self._url, json={"surrogate_keys": surrogate_keys},
                headers={**self._headers, "Surrogate-Key": " ".join(surrogate_keys)},
            )
            response.raise_for_status()  # a failed purge is retried by the delivery


class LoggingCdnPurger:
    """For machines without a CDN: say what would have been purged."""

    async def purge(self, surrogate_keys: list[str]) -> None:
        logger.info("cdn purge %s", " ".join(surrogate_keys))
