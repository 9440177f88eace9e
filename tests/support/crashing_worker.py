"""A Dramatiq worker module that dies once, on purpose, between receiving a message and acking it.

EMPORIUM_TEST_CRASH_FLAG names a file; while it exists the next message kills the process
(``os._exit``: no cleanup, no ack) either before the actor runs (stage "before") or after the
actor committed its transaction (stage "after").
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import dramatiq

from entrypoints.worker.app import broker


class CrashOnce(dramatiq.Middleware):
    def __init__(self) -> None:
        self.flag = Path(os.environ["EMPORIUM_TEST_CRASH_FLAG"])
        self.stage = os.environ.get("EMPORIUM_TEST_CRASH_STAGE", "before")
        # The worker runs two threads: the one that crashes holds this until the process is gone, so
        # the other can neither crash too (unlinking a flag already gone) nor, in stage "before",
        # find the flag just removed and start an actor in the last instant.
        self.lock = threading.Lock()

    def _maybe_crash(self, stage: str) -> None:
        if stage != self.stage:
            return
        with self.lock:
            if self.flag.exists():
                self.flag.unlink()
                os._exit(137)

    def before_process_message(self, broker: Any, message: Any) -> None:
        self._maybe_crash("before")

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None, exception: Any = None) -> None:
        self._maybe_crash("after")


broker.add_middleware(CrashOnce())
