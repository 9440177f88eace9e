"""JSON logs carrying the request id (and staff/customer id when known); no secrets."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
actor_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("actor", default=None)

# Belt and braces: whatever reaches a log line, these shapes never leave it readable.
_SECRETS = re.compile(
    r"(?i)(emp_[A-Za-z0-9_-]{8,}|sk_(?:test|live)_[A-Za-z0-9]+|whsec_[A-Za-z0-9]+|"
    r"(?:password|token|secret|authorization)[\"']?\s*[:=]\s*[\"']?[^\s\"',}]+)"
)


def redact(text: str) -> str:
    return _SECRETS.sub("[redacted]", text)


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


class JsonFormatter(logging.Formatter):
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
        for key in ("method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    install_context_stamp()
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("sqlalchemy.engine", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
