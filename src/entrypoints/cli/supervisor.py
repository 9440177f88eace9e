"""``emporium run``: the whole product on one machine, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from entrypoints.cli.services import kill_group, services
from entrypoints.settings import get_settings


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own process group: Ctrl-C reaches us only, and we stop each child (and its forks) in order.
    return subprocess.Popen(args, env=env, start_new_session=True)


def run_all(project_dir: Path, *, with_seed: bool = True) -> int:
    from entrypoints.cli.main import wait_http, worker_command

    settings = get_settings()
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    with services(settings.database_url, settings.redis_url, project_dir / ".emporium") as found:
        if found.embedded:
            print(f"started embedded {', '.join(found.embedded)} under {project_dir / '.emporium'}")
        env = dict(os.environ, DATABASE_URL=found.database_url, REDIS_URL=found.redis_url)
        emporium = [sys.executable, "-m", "entrypoints.cli"]
        subprocess.run([*emporium, "migrate"], env=env, check=True)
        if with_seed:
            subprocess.run([*emporium, "seed"], env=env, check=True)
        subprocess.run([*emporium, "projections", "rebuild"], env=env, check=True)
        children = {
            "api": _spawn([*emporium, "serve"], env),
            "worker": _spawn(worker_command(), env),
            "relay": _spawn([*emporium, "relay"], env),
        }
        base = f"http://{settings.host}:{settings.port}"
        try:
            if wait_http(f"{base}/health", timeout=60):
                print(
                    f"\nEmporium is up.\n  API:     {base}/store/products/trail-runner\n"
                    f"  OpenAPI: {base}/schema  (JSON: {base}/schema/openapi.json)\n"
                    f"  Health:  {base}/health\nPress Ctrl-C to stop.\n",
                    flush=True,
                )
            else:
                print("the API did not become healthy within 60 s; see the logs above", flush=True)
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        print(f"{name} exited with {child.returncode}; stopping everything", flush=True)
                        stopping = True
                time.sleep(0.3)
        finally:
            for child in children.values():
                kill_group(child, signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    kill_group(child, signal.SIGKILL)
                    child.wait()
                # Reap forks left in the group (Dramatiq's worker processes).
                kill_group(child, signal.SIGKILL)
            print("stopped", flush=True)
    return 0
