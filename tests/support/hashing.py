"""A real argon2 hasher that tells a test how many hashes it computed and how many ran at once, and can
hold every hash until the test releases them (to look at the server while hashes are in flight)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher

from tests.support.waiting import GENEROUS

T = TypeVar("T")


class WatchedArgon2(PasswordHasher):
    """argon2-cffi's hasher with cheap parameters (the cost is not what is tested), watched.

    ``computed`` counts finished hashes and verifications, ``in_flight`` the running ones and
    ``most_at_once`` the peak. Made with ``hold=True`` each one waits for ``release()`` before it
    computes; the wait is bounded by ``GENEROUS`` so that a test that never releases still ends."""

    def __init__(self, *, hold: bool = False) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self._lock = threading.Lock()
        self._released = threading.Event()
        if not hold:
            self._released.set()
        self.computed = 0
        self.in_flight = 0
        self.most_at_once = 0

    def release(self) -> None:
        self._released.set()

    def _watched(self, work: Callable[[], T]) -> T:
        with self._lock:
            self.in_flight += 1
            self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            self._released.wait(GENEROUS)
            return work()
        finally:
            with self._lock:
                self.in_flight -= 1
                self.computed += 1

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        return self._watched(lambda: super(WatchedArgon2, self).hash(password, salt=salt))

    def verify(self, hash: str | bytes, password: str | bytes):
        return self._watched(lambda: super(WatchedArgon2, self).verify(hash, password))
