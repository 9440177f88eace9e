"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendations).

A hash costs a fifth of a second of CPU. It runs in a bounded thread pool, never on the event loop:
argon2-cffi releases the GIL while it computes, so the loop keeps answering (and hashes run in
parallel on several cores). Calls beyond the pool's threads wait in its queue; the rate limits in
``application/customers/throttle.py`` bound how many can arrive. On Linux the pool's threads run at a
lower CPU priority (nice +10, which the threads argon2 starts inherit): when hashes and requests want
the same cores, the event loop wins, and a flood of sign-ins slows the sign-ins, not the catalog.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

NICENESS = 10


def _yield_to_the_loop() -> None:
    """Lower this pool thread's CPU priority (Linux keeps a nice value per thread)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


class Argon2Hasher:
    def __init__(
        self, *, time_cost: int | None = None, memory_cost: int | None = None, threads: int = 0,
        argon2: PasswordHasher | None = None,
    ) -> None:
        """``threads``: hashes computed at once (0: one per CPU). ``argon2``: the library's hasher to use."""
        options = {k: v for k, v in {"time_cost": time_cost, "memory_cost": memory_cost}.items() if v is not None}
        self._hasher = argon2 or PasswordHasher(**options)
        self._pool = ThreadPoolExecutor(
            max_workers=threads or os.cpu_count() or 1, thread_name_prefix="argon2", initializer=_yield_to_the_loop,
        )

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
