"""Purges by surrogate key: to our own edge (Varnish with xkey, deploy/varnish/emporium.vcl) or to a hosted
CDN with Fastly's surrogate-key purge API; logged only, where there is neither."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx

logger = logging.getLogger(__name__)

# Keys go in one request header: a purge naming many (a bulk import) is sent in batches that keep it short
# (Varnish refuses a request header over 8 KB by default; Fastly takes 256 keys per request).
HEADER_BUDGET = 4000
MAX_KEYS = 256


def batches(keys: list[str], *, budget: int = HEADER_BUDGET, most: int = MAX_KEYS) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for key in keys:
        if batch and (size + 1 + len(key) > budget or len(batch) == most):
            yield batch
            batch, size = [], 0
        batch.append(key)
        size += len(key) + (1 if size else 0)
    if batch:
        yield batch


class VarnishPurger:
    """``PURGE`` with a ``Surrogate-Key`` header to each edge (a soft purge of every copy tagged with any of
    the keys) and the purge token as a bearer token; several edges comma-separated in the setting."""

    def __init__(self, urls: list[str], *, token: str = "", timeout: float = 5.0) -> None:
        self._urls = urls
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout

    async def purge(self, surrogate_keys: list[str]) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            for url in self._urls:
                for batch in batches(surrogate_keys):
                    response = await client.request(
                        "PURGE", url, headers={**self._headers, "Surrogate-Key": " ".join(batch)})
                    response.raise_for_status()  # a failed purge is retried by the delivery


class FastlyPurger:
    """Fastly's purge by surrogate key: ``POST <service>/purge`` with the keys in ``Surrogate-Key``, the API
    token in ``Fastly-Key``, soft (the copies are marked stale, kept for stale-if-error)."""

    def __init__(self, url: str, *, token: str = "", timeout: float = 5.0) -> None:
        self._url = url
        self._headers = {"Fastly-Soft-Purge": "1", **({"Fastly-Key": token} if token else {})}
        self._timeout = timeout

    async def purge(self, surrogate_keys: list[str]) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            for batch in batches(surrogate_keys):
                response = await client.post(self._url, headers={**self._headers, "Surrogate-Key": " ".join(batch)})
                response.raise_for_status()  # a failed purge is retried by the delivery


class LoggingCdnPurger:
    """For machines without a CDN: say what would have been purged."""

    async def purge(self, surrogate_keys: list[str]) -> None:
        logger.info("cdn purge %s", " ".join(surrogate_keys))
