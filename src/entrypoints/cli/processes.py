"""How the CLI starts and watches its long-running processes (used by ``worker``, ``run`` and benchmarks)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path


def worker_command(processes: int = 1, threads: int = 4, *, schedule: bool = True) -> list[str]:
    command = [
        sys.executable, "-m", "dramatiq", "entrypoints.worker.app", "--processes", str(processes),
        "--threads", str(threads), "--skip-logging", "--worker-shutdown-timeout", "5000",
    ]
    if schedule:  # the periodic jobs run in a process forked beside the workers
        command += ["--fork-function", "entrypoints.worker.scheduler:run_scheduler"]
    return command


def yield_cpu(nice: int) -> None:
    """Background work (the outbox consumers, the relay, the periodic jobs) lets buyers' requests go
    first when it shares a host's CPUs with the API: a flash sale's backlog of events waits a few
    seconds, the buyers do not. On a host of its own this changes nothing.

    Linux schedules a session's processes as one group (autogroup) with the same share as any other
    session, whatever their nice value: a process that leads its own session (as ``emporium run``
    and the benchmarks start every child) lowers its group's weight too. A process in a terminal's
    session lowers only its own priority, so the API it may share that session with keeps its own."""
    if nice <= 0:
        return
    with contextlib.suppress(OSError):
        os.nice(nice)
    if os.getsid(0) == os.getpid():
        with contextlib.suppress(OSError):  # no autogroup (another kernel, a container): nice alone
            Path("/proc/self/autogroup").write_text(str(nice))


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
