"""The front door, end to end: ``emporium run`` on a machine where no PostgreSQL or Redis listens.

One real ``emporium run`` is started for the module with ``DATABASE_URL``/``REDIS_URL`` naming
loopback ports where nothing listens: it must embed both servers there, migrate, seed and serve.
Against it: the CLI run beside it, a purchase over HTTP, the README walkthrough as written; last,
Ctrl-C (SIGINT) must stop every process it started.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.network import free_port
from tests.support.processes import ROOT, log_tail
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

BOUND = 240.0  # generous: a busy 2-core machine; a quiet one starts in about 10 s




def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    home: Path
    log: Path
    env: dict[str, str]
    api: str
    database_url: str

    def emporium(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", *args], env=self.env, cwd=ROOT, capture_output=True,
            text=True, timeout=BOUND, check=False,
        )


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # Not under pytest's tmp_path (0700 under /tmp/pytest-of-root): as root the embedded PostgreSQL
    # runs as 'nobody', who must reach its data folder.
    home = Path(tempfile.mkdtemp(prefix="emporium-front-door-"))
    home.chmod(0o755)
    pg_port, redis_port, api_port = free_port(), free_port(), free_port()
    database_url = f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/emporium"
    env = dict(
        os.environ, EMPORIUM_HOME=str(home), DATABASE_URL=database_url,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", EMPORIUM_PORT=str(api_port),
        EMPORIUM_BROKER_NAMESPACE=f"front-door-{uuid.uuid4().hex[:8]}", EMPORIUM_LOG_JSON="false",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    log = home / "run.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "run"], env=env, cwd=home, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    running = Stack(process, home, log, env, f"http://127.0.0.1:{api_port}", database_url)
    try:
        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"emporium run exited with {process.returncode}:\n{log_tail(log)}")
            said = log_tail(log, 1 << 20)
            assert "did not become healthy" not in said, said
            return "Emporium is up" in said

        wait_until(up, BOUND, what="emporium run, embedded servers, up and healthy")
        yield running
    finally:
        if process.poll() is None:  # the stop test did not run (or failed): stop everything we started
            leftovers = _descendants(process.pid)
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=BOUND)
            except subprocess.TimeoutExpired:
                process.kill()
            for pid in leftovers:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)


class Shopper:
    """A storefront client that keeps our Secure cookies itself (cookie jars drop them on http)."""

    def __init__(self, api: str) -> None:
        self.client = httpx.Client(base_url=api, timeout=60)
        self.cookies: dict[str, str] = {}

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if "emporium_csrf" in self.cookies:
                headers["X-CSRF-Token"] = self.cookies["emporium_csrf"]
        response = self.client.request(method, path, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def test_it_embedded_postgresql_with_contrib_and_redis_where_nothing_listened(stack: Stack) -> None:
    assert "started embedded postgres, redis" in log_tail(stack.log, 1 << 20)
    assert (stack.home / ".emporium" / "postgres" / "data" / "PG_VERSION").exists()
    with psycopg.connect(stack.database_url.replace("+psycopg", ""), autocommit=True) as conn:
        extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
    assert "pg_trgm" in extensions  # the search migration's extension, from the bundled contrib
    health = httpx.get(f"{stack.api}/health", timeout=30)
    assert health.status_code == 200, health.text


def test_the_cli_beside_it_finds_the_embedded_servers_and_a_purchase_goes_through(stack: Stack) -> None:
    token = stack.emporium("admin", "create-token", "--role", "owner")
    assert token.returncode == 0, token.stderr
    staff = {"Authorization": f"Bearer {token.stdout.strip()}"}
    sku = f"FD-{uuid.uuid4().hex[:8].upper()}"
    api = httpx.Client(base_url=stack.api, timeout=60, headers=staff)
    product = _ok(api.post("/admin/products", json={
        "name": f"Front door {sku}", "sku": sku, "price": 1250, "currency": "EUR", "status": "active",
    }), 201)
    _ok(api.post(f"/admin/inventory/{sku}/receive", json={"location_id": "main", "quantity": 3}), 201)

    shopper = Shopper(stack.api)
    _ok(shopper.call("POST", "/store/cart/lines", json={"sku": sku, "quantity": 2}), 201)
    cart = _ok(shopper.call("GET", "/store/cart"))
    assert [(line["sku"], line["available"]) for line in cart["lines"]] == [(sku, True)]
    checkout = _ok(shopper.call("POST", "/store/checkout"), 201)
    path = f"/store/checkout/{checkout['id']}"
    _ok(shopper.call("PUT", f"{path}/contact", json={"email": "door@example.com"}))
    _ok(shopper.call("PUT", f"{path}/address", json={"shipping": {
        "name": "Ada", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE",
    }}))
    _ok(shopper.call("PUT", f"{path}/shipping", json={"method_id": "eu-standard"}))
    _ok(shopper.call("POST", f"{path}/payment", json={"provider": "manual"}))
    key = str(uuid.uuid4())
    placed = _ok(shopper.call("POST", f"{path}/place", headers={"Idempotency-Key": key}), 201)
    again = _ok(shopper.call("POST", f"{path}/place", headers={"Idempotency-Key": key}), 201)
    assert again["number"] == placed["number"]

    order = _ok(api.get(f"/admin/orders/{placed['order_id']}"))
    with psycopg.connect(stack.database_url.replace("+psycopg", "")) as conn:
        rows = conn.execute("SELECT count(*) FROM orders WHERE number = %s", (placed["number"],)).fetchone()
        held = conn.execute("SELECT sum(reserved + committed) FROM stock_items WHERE sku = %s", (sku,)).fetchone()
    assert rows == (1,)
    assert held == (2,)  # the order's units are held (or already committed by the worker)
    assert order["number"] == placed["number"]
    assert [line["sku"] for line in order["lines"]] == [sku], (product, order)


def walkthrough() -> str:
    """The README's walkthrough section: its shell blocks, in order, as one script."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Walkthrough"):]
    section = section[: section.index("\n## ", 5)]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert blocks, "the README has no walkthrough blocks"
    return "\n".join(blocks)


def _run_walkthrough(stack: Stack, script: str) -> subprocess.CompletedProcess[str]:
    for tool in ("curl", "jq", "python3"):
        if shutil.which(tool) is None:
            pytest.fail(f"the README walkthrough needs {tool}: apt-get install -y {tool}")
    if not (ROOT / ".venv" / "bin" / "emporium").exists():
        pytest.fail("the walkthrough runs .venv/bin/emporium: run `make install`")
    # As a reader would, at the repository's root (.venv/bin/emporium), but with the cookie jar
    # in a folder of its own: a scratch folder that links the virtualenv.
    workdir = Path(tempfile.mkdtemp(dir=stack.home))
    (workdir / ".venv").symlink_to(ROOT / ".venv")
    env = dict(stack.env, API=stack.api.removeprefix("http://").replace("127.0.0.1", "localhost"))
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=BOUND, check=False)


def test_the_readme_walkthrough_runs_as_written(stack: Stack) -> None:
    result = _run_walkthrough(stack, walkthrough())
    assert result.returncode == 0, f"README walkthrough failed:\n{result.stdout}\n{result.stderr}"
    assert re.search(r'"number": "EM-\d{8}-[0-9A-F]+"', result.stdout), result.stdout
    assert '"stock": "in_stock"' in result.stdout, result.stdout


def test_a_broken_walkthrough_example_fails_the_readme_test(stack: Stack) -> None:
    # A typo in the first call's path, as an edit to the README could make it: nothing is created.
    broken = walkthrough().replace("$API/admin/products", "$API/admin/product", 1)
    result = _run_walkthrough(stack, broken)
    assert result.returncode != 0
    assert "404" in result.stderr, result.stderr


def _child(stack: Stack, marker: str) -> int | None:
    """The supervisor's child whose command line holds ``marker`` (and is not a zombie)."""
    for pid in _descendants(stack.process.pid):
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == stack.process.pid and marker in command and _alive(pid):
            return pid
    return None


def _health(stack: Stack) -> str | None:
    try:
        answer = httpx.get(f"{stack.api}/health", timeout=10)
    except httpx.TransportError:
        return None
    return str(answer.json()["status"]) if answer.status_code == 200 else None


@pytest.mark.parametrize(("name", "marker"), [("worker", "dramatiq"), ("relay", "cli relay"), ("api", "cli serve")])
def test_a_child_killed_is_started_again_and_health_returns_to_ok(stack: Stack, name: str, marker: str) -> None:
    wait_until(lambda: _health(stack) == "ok", BOUND, what="/health ok (the worker's heartbeat seen)")
    victim = _child(stack, marker)
    assert victim is not None, f"no {name} among the supervisor's children"
    os.killpg(victim, signal.SIGKILL)  # its own process group: the child and what it forked
    began = time.monotonic()
    wait_until(lambda: _child(stack, marker) not in (None, victim), BOUND, what=f"a new {name} process")
    wait_until(lambda: _health(stack) == "ok", BOUND, what=f"/health ok again after the {name} was killed")
    print(f"{name} killed: started again and /health ok after {time.monotonic() - began:.1f} s")
    assert f"{name} exited with -9; starting it again" in log_tail(stack.log, 1 << 20)


def test_ctrl_c_stops_every_process_it_started(stack: Stack) -> None:
    """Runs last in this module: it stops the shared stack."""
    started = _descendants(stack.process.pid)
    assert len(started) >= 5, started  # api, worker (+ its fork processes), relay, postgres (+ backends), redis
    began = time.monotonic()
    stack.process.send_signal(signal.SIGINT)
    wait_until(lambda: stack.process.poll() is not None and not any(_alive(pid) for pid in started), BOUND,
               what="Ctrl-C until no process of the stack is left")
    stopped = time.monotonic() - began
    log = log_tail(stack.log, 1 << 20)
    print(f"stop measured from outside: {stopped:.1f} s; the supervisor's own line: "
          f"{re.search(r'stopped in .*', log).group(0) if 'stopped in' in log else '(none)'}")
    assert stack.process.returncode == 0, log_tail(stack.log)
    assert "Traceback" not in log, log
    assert not (stack.home / ".emporium" / "postgres" / "data" / "postmaster.pid").exists()
