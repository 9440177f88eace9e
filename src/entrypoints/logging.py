"""One logging setup for every process (API, worker, scheduler, relay): JSON lines (or plain text in
development) carrying the request id and the staff/customer id when known. Nothing logged may leak:
secrets and hashes are redacted by key and by shape, and control characters are escaped in every
field, so a ``%0a`` in a URL cannot forge a line."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
actor_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("actor", default=None)

# Belt and braces: whatever reaches a log line, these shapes never leave it readable.
_SHAPES = re.compile(
    r"emp_[A-Za-z0-9_-]{8,}|sk_(?:test|live)_[A-Za-z0-9]+|whsec_[A-Za-z0-9]+"
    r"|\$argon2(?:id|i|d)\$[A-Za-z0-9+/=$,.-]*|\$2[aby]?\$\d\d\$[./A-Za-z0-9]+"  # password hashes
)
# By key: ``password=…``, ``'password_hash': '…'``, ``"reset_token": "…"``, ``Authorization: Bearer …``.
_KEY_NAMES = r"(?<![\w-])[\w-]*(?:passw(?:or)?d|passphrase|pwd|secret|token|hash|authorization|cookie|csrf" \
             r"|api[_-]?key|session)[\w-]*"
_BY_KEY = re.compile(
    rf"(?i)(?P<key>{_KEY_NAMES}[\"']?\s*[:=]\s*(?:(?:bearer|basic)\s+)?)"
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&)}\]]+)"""
)
# C0 controls, DEL, NEL and the Unicode line/paragraph separators: anything a terminal or a log
# reader could take for the end of a line (or an escape sequence).
_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")


def _redacted_value(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('key')}{quote}[redacted]{quote}"


def redact(text: str) -> str:
    return _SHAPES.sub("[redacted]", _BY_KEY.sub(_redacted_value, text))


def escape(text: str) -> str:
    """Control characters as visible escapes (``\\n``, ``\\x1b``): one record stays one line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _clean(value: object) -> object:
    return escape(redact(value)) if isinstance(value, str) else value


def install_context_stamp() -> None:
    """Stamp every log record with the request id and actor at creation, whatever handler emits it."""
    base = logging.getLogRecordFactory()
    if getattr(base, "_emporium", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = base(*args, **kwargs)
        record.request_id = request_id_var.get()
        record.actor = actor_var.get()
        return record

    factory._emporium = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_FIELDS = ("method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per line (JSON escapes every control character)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid is not None:
            entry["request_id"] = rid
        actor = getattr(record, "actor", None) or actor_var.get()
        if actor is not None:
            entry["actor"] = actor
        for key in _FIELDS:
            if hasattr(record, key):
                entry[key] = _clean(getattr(record, key))
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for development: the message escaped and redacted, a traceback indented under it
    (each of its lines escaped too), so no line of a record can pass for a record of its own."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record)} {record.levelname} {escape(record.name)} {_clean(record.getMessage())}"
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid is not None:
            line += f" request_id={escape(rid)}"
        details = []
        if record.exc_info:
            details.append(self.formatException(record.exc_info))
        if record.stack_info:
            details.append(self.formatStack(record.stack_info))
        for detail in details:
            line += "".join(f"\n    {escape(part)}" for part in redact(detail).splitlines())
        return line


def configure_logging(level: str = "INFO", *, json_lines: bool = True, stream: TextIO | None = None) -> None:
    """The one logging setup: every process calls it at start (the API's Litestar app adds none of its own)."""
    install_context_stamp()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("sqlalchemy.engine", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
