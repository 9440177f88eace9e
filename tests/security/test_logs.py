"""Audit row 4: logs that leak nothing.

Every process logs through one setup (``entrypoints/logging.py``), the API included (Litestar's own
logging config would replace it); SQL parameters never reach an error message; a control character
in a request cannot forge a log line; secrets and hashes are redacted by key and by shape. The
acceptance test drives sign-up, failing sign-ups, sign-in and a password reset through real
``serve``, ``relay`` and ``worker`` processes and reads every line they logged.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import text

from adapters.postgres.engine import make_engine
from entrypoints.http.app import create_app
from entrypoints.logging import JsonFormatter, TextFormatter, configure_logging
from tests.support.http_app import make_container, settings_for
from tests.support.network import free_port
from tests.support.notify import smtp_server
from tests.support.processes import (
    RELAY_READY,
    WORKER_READY,
    ready,
    relay_process,
    running,
    service_env,
    skip_outbox_backlog,
    start,
    worker_process,
)
from tests.support.waiting import GENEROUS, eventually

FORGED = '{"level": "error", "logger": "emporium.payments", "message": "refund approved"}'


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Leave the process's logging as the test found it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_the_api_keeps_the_json_redacting_formatter(database_url, redis_url, root_logging, monkeypatch) -> None:
    from litestar.testing import TestClient

    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)  # where the app's log handler writes
    app = create_app(make_container(settings_for(database_url, redis_url, log_json=True)), configure_logs=True)
    with TestClient(app, base_url="http://testserver.local") as client:
        client.get("/health/live")
        logging.getLogger("emporium.test").info("signin password=hunter2")
    lines = stream.getvalue().splitlines()
    assert lines, "nothing reached our handler"
    assert all(json.loads(line) for line in lines), "a line left without the JSON formatter"
    assert "hunter2" not in stream.getvalue()
    assert all(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers)


@pytest.mark.parametrize("json_lines", [True, False])
def test_a_newline_in_a_url_cannot_forge_a_log_line(database_url, redis_url, root_logging, json_lines) -> None:
    from litestar.testing import TestClient

    stream = io.StringIO()
    settings = settings_for(database_url, redis_url, log_json=json_lines)
    app = create_app(make_container(settings), configure_logs=False)
    configure_logging("INFO", json_lines=json_lines, stream=stream)
    with TestClient(app, base_url="http://testserver.local") as client:
        client.get("/store/products/x%0a" + FORGED.replace(" ", "%20") + "%0d%1b[2J")
    lines = stream.getvalue().splitlines()
    access = [line for line in lines if "emporium.access" in line]
    assert len(access) == 1, lines
    assert not [line for line in lines if line.startswith(('{"level"', "refund"))]
    assert "\x1b" not in stream.getvalue()
    assert "\r" not in stream.getvalue()
    if json_lines:
        assert all(json.loads(line) for line in lines)


def test_text_and_json_lines_escape_control_characters_in_every_field() -> None:
    record = logging.LogRecord("emporium.x", logging.WARNING, __file__, 1, "a\nb %s", ("c\rd\x00",), None)
    record.path = "/p\n" + FORGED
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record)
        assert "\n" not in line
        assert "\r" not in line
        assert "\x00" not in line


def test_an_exception_traceback_stays_indented_under_its_line() -> None:
    try:
        raise ValueError("bad\n" + FORGED)
    except ValueError:
        record = logging.LogRecord("emporium.x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text_line = TextFormatter().format(record)
    assert all(line.startswith(" ") for line in text_line.splitlines()[1:])
    assert "\n" not in JsonFormatter().format(record)


ARGON = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"


def test_secrets_and_hashes_are_redacted_by_key_and_by_shape() -> None:
    message = (
        f"[parameters: {{'email': 'ada@example.com', 'password_hash': '{ARGON}', 'name': 'Ada'}}] "
        "session_token=abcdef0123456789 reset_token: 'zyx987' csrf=9f8e7d6c api_key=AKIA123 "
        f'{{"new_password": "correct horse 42"}} Failing row contains (x, {ARGON[:40]}...)'
    )
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, message, None, None)
    record.secret_key = "dev-only-secret"  # an extra field named for a secret
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record)
        for secret in ("RdescudvJCsgt3ub", "c29tZXNhbHQ", "abcdef0123456789", "zyx987", "9f8e7d6c", "AKIA123",
                       "correct horse 42", "dev-only-secret"):
            assert secret not in line, (formatter, line)
        assert "ada@example.com" in line, "what is not secret stays readable"


async def test_sql_parameters_never_reach_an_error_message(database_url) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(Exception) as raised:
                # The server's own message names no value here (a failing row it may echo is caught by
                # redaction by shape); the statement's parameters are what SQLAlchemy would add.
                await conn.execute(text("SELECT CAST(:value AS text), 1 / 0"), {"value": "secret-parameter-value"})
    finally:
        await engine.dispose()
    assert "secret-parameter-value" not in str(raised.value)


# -- the acceptance test: every process's output -----------------------------------------------------


def _cookies(response: httpx.Response) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        found.update({name: morsel.value for name, morsel in jar.items() if morsel.value})
    return found


def _hash_of(database_url: str, email: str) -> str:
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        row = conn.execute("SELECT password_hash FROM customers WHERE email = %s", (email,)).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.slow
async def test_sign_up_sign_in_and_reset_leave_no_password_hash_or_token_in_any_log(
    database_url, redis_url, tmp_path: Path, unique,
) -> None:
    port = free_port()
    email = f"logs-{unique}@example.com"
    first, second = f"first secret {uuid.uuid4().hex}", f"second secret {uuid.uuid4().hex}"
    secrets: dict[str, str] = {"first password": first, "second password": second}
    with smtp_server() as mailbox:
        env = service_env(
            database_url, redis_url, f"emporium-logs-{unique}", EMPORIUM_LOG_JSON="true", EMPORIUM_PORT=str(port),
            EMPORIUM_SMTP_HOST="127.0.0.1", EMPORIUM_SMTP_PORT=str(mailbox.port), EMPORIUM_COOKIE_SECURE="false",
            EMPORIUM_REDIS_KEY_PREFIX=f"test:{unique}:", EMPORIUM_LOG_LEVEL="DEBUG",
        )
        skip_outbox_backlog(database_url)
        logs = {name: tmp_path / f"{name}.log" for name in ("api", "relay", "worker")}
        api = start([sys.executable, "-m", "entrypoints.cli", "serve"], env, logs["api"])
        relay, worker = relay_process(env, logs["relay"]), worker_process(env, logs["worker"])
        with running(api, relay, worker):
            await ready(api, logs["api"], "Application startup complete")
            await ready(relay, logs["relay"], RELAY_READY)
            await ready(worker, logs["worker"], WORKER_READY)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=GENEROUS) as client:

                class Fresh:  # each call a new browser: no cookies carried (a cookie would need its CSRF token)
                    def post(self, path: str, **kwargs) -> httpx.Response:
                        client.cookies.clear()
                        return client.post(path, **kwargs)

                    def get(self, path: str) -> httpx.Response:
                        client.cookies.clear()
                        return client.get(path)

                http = Fresh()
                account = {"email": email, "password": first, "name": "Ada"}
                signed_up = http.post("/store/customers", json=account)
                assert signed_up.status_code == 201, signed_up.text
                secrets.update({f"sign-up {k}": v for k, v in _cookies(signed_up).items()})
                assert http.post("/store/customers", json=account).status_code == 409
                nul = http.post("/store/customers", json={**account, "email": f"nul-{email}", "name": "A\x00da"})
                assert nul.status_code >= 400  # 400 at the edge (a 500 from PostgreSQL before the fix)
                assert http.post("/store/session", json={"email": email, "password": "wrong " + first}
                                 ).status_code == 401
                signed_in = http.post("/store/session", json={"email": email, "password": first})
                assert signed_in.status_code == 200, signed_in.text
                secrets.update({f"sign-in {k}": v for k, v in _cookies(signed_in).items()})
                secrets["first hash"] = _hash_of(database_url, email)
                assert http.post("/store/password-resets", json={"email": email}).status_code == 202
                await eventually(lambda: mailbox.messages, GENEROUS, what="the reset e-mail")
                body = mailbox.messages[-1].get_body(("plain",)).get_content()
                token = re.search(r"reset code: (\S+)", body).group(1)
                secrets["reset token"] = token
                assert http.post("/store/password-resets/confirm",
                                 json={"token": token, "password": second}).status_code == 204
                assert http.post("/store/password-resets/confirm",
                                 json={"token": token, "password": second}).status_code == 400
                secrets["second hash"] = _hash_of(database_url, email)
                again = http.post("/store/session", json={"email": email, "password": second})
                assert again.status_code == 200, again.text
                secrets.update({f"second sign-in {k}": v for k, v in _cookies(again).items()})
                http.get("/store/products/x%0a" + FORGED.replace(" ", "%20"))
    output = {name: path.read_text(errors="replace") for name, path in logs.items()}
    assert "customers" in output["api"] or "POST" in output["api"], "the API logged its requests"
    for name, logged in output.items():
        for what, secret in secrets.items():
            assert secret not in logged, f"the {name} log holds the {what}"
        assert "$argon2" not in logged, f"the {name} log holds a password hash"
    api_lines = output["api"].splitlines()
    assert all(json.loads(line) for line in api_lines), "every API line is one JSON object"
    assert not [line for line in api_lines if json.loads(line).get("message") == "refund approved"]
