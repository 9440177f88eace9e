"""The worker's heartbeat, and what a health check reads of it and of the broker's queues.

Every worker process beats every ``every`` seconds while its consumer and worker threads are alive
(a sorted set ``{prefix}worker:heartbeats``: member ``host:pid``, score the time of its last beat);
a process that stops cleanly takes its member out at once, one that dies just stops beating. The API's
``/health`` reads the newest beat and the depth of the queues: no beat for ``worker_stale_seconds``
means nothing consumes the events (read models, e-mails, webhooks fall behind) — degraded, not down.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

import dramatiq

from adapters.dramatiq.broker import QUEUE
from adapters.dramatiq.tracking import TRACKING_QUEUE
from adapters.dramatiq.webhooks import WEBHOOK_QUEUE

log = logging.getLogger(__name__)

KEEP_SECONDS = 24 * 3600  # a host's stale members are dropped after a day without any beat
QUEUES = (QUEUE, WEBHOOK_QUEUE, TRACKING_QUEUE)


def heartbeat_key(prefix: str) -> str:
    return f"{prefix}worker:heartbeats"


class Heartbeat(dramatiq.Middleware):
    """Beats for this worker process while its threads run (Dramatiq calls the hooks)."""

    def __init__(self, prefix: str, every: float) -> None:
        self.key, self.every = heartbeat_key(prefix), every
        self.member = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        self.member = f"{socket.gethostname()}:{os.getpid()}"  # this (forked) process's own
        self._thread = threading.Thread(target=self._beat, args=(broker, worker), name="heartbeat", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.every + 1)
        try:
            broker.client.zrem(self.key, self.member)
        except Exception:  # Redis gone: the beat just goes stale
            log.warning("could not withdraw the worker's heartbeat", exc_info=True)

    def _beat(self, broker: Any, worker: Any) -> None:
        while not self._stop.is_set():
            threads = [*worker.consumers.values(), *worker.workers]
            if threads and all(thread.is_alive() for thread in threads):
                try:
                    now = time.time()
                    pipe = broker.client.pipeline(transaction=False)
                    pipe.zadd(self.key, {self.member: now})
                    pipe.zremrangebyscore(self.key, 0, now - KEEP_SECONDS)
                    pipe.expire(self.key, KEEP_SECONDS)
                    pipe.execute()
                except Exception:  # Redis away: beat again next time
                    log.warning("the worker's heartbeat could not be written", exc_info=True)
            self._stop.wait(self.every)


async def last_beat(redis: Any, prefix: str) -> float | None:
    """When any worker last beat (epoch seconds), None if none ever did (or none for a day)."""
    newest = await redis.zrevrange(heartbeat_key(prefix), 0, 0, withscores=True)
    return float(newest[0][1]) if newest else None


async def queue_depth(redis: Any, namespace: str) -> int:
    """Messages waiting in the worker's queues (not the delayed ones: those wait on purpose)."""
    pipe = redis.pipeline(transaction=False)
    for queue in QUEUES:
        pipe.llen(f"{namespace}:{queue}")
    return sum(int(n) for n in await pipe.execute())
