"""One readable line, with what to do, for the failures a command line meets (``--debug`` shows more)."""

from __future__ import annotations

import re

from entrypoints.cli.services import ServiceError, postgres_address, redis_address
from entrypoints.settings import SettingsError


def _database_hint(error: BaseException) -> str:
    from entrypoints.settings import get_settings

    text = str(getattr(error, "orig", None) or error)
    missing = re.search(r'database "([^"]+)" does not exist', text)
    if missing:
        return f"database {missing.group(1)!r} does not exist: run `emporium migrate` (or `make run`)"
    if re.search(r'relation "[^"]+" does not exist', text):
        return "the database is not migrated: run `emporium migrate`"
    if "connection" in text.lower() and ("refused" in text.lower() or "failed" in text.lower()):
        address = postgres_address(get_settings().database_url)
        return (f"PostgreSQL at {address.host}:{address.port} does not answer: start it (or `emporium run`, "
                "which embeds one), or set DATABASE_URL")
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"PostgreSQL: {first}"


def explain(error: BaseException) -> str:
    """What went wrong and what to do, in one line."""
    if isinstance(error, ServiceError | SettingsError):
        return str(error)
    module = type(error).__module__
    if module.startswith(("sqlalchemy", "psycopg")):
        return _database_hint(error)
    if module.startswith("redis"):
        from entrypoints.settings import get_settings

        address = redis_address(get_settings().redis_url)
        return (f"Redis at {address.host}:{address.port} does not answer ({error}): start it "
                "(or `emporium run`, which embeds one), or set REDIS_URL")
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}{': ' + text if text else ''} (run with --debug for the traceback)"
