"""How the CLI starts and watches its long-running processes (used by ``worker``, ``run`` and benchmarks)."""

from __future__ import annotations

import sys
import time
import urllib.request
from collections.abc import Callable


def worker_command(processes: int = 1, threads: int = 4, *, schedule: bool = True) -> list[str]:
    command = [
        sys.executable, "-m", "dramatiq", "entrypoints.worker.app", "--processes", str(processes),
        "--threads", str(threads), "--skip-logging", "--worker-shutdown-timeout", "5000",
    ]
    if schedule:  # the periodic jobs run in a process forked beside the workers
        command += ["--fork-function", "entrypoints.worker.scheduler:run_scheduler"]
    return command


def wait_http(url: str, timeout: float, give_up: Callable[[], bool] = lambda: False) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not give_up():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own localhost URL
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False
