"""What PostgreSQL itself saw: its statement log (``log_statement = 'all'`` on one database), read back
for the backends of one process kind (``PGAPPNAME``: emporium-api, emporium-worker, emporium-relay).

Debian's PostgreSQL writes its log to /var/log/postgresql/postgresql-<version>-main.log with the
prefix ``%m [%p] %q%u@%d`` (time, backend pid, user@database): a line names its backend and its
database, so one database's statements of one process kind can be told apart from everything else.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.support.waiting import GENEROUS

LOGS = Path("/var/log/postgresql")
_LINE = re.compile(
    r"^\S+ \S+ \S+ \[(?P<pid>\d+)\] (?P<who>\S*)@(?P<db>\S+) LOG:  (?:statement|execute [^:]*): ?(?P<sql>.*)$")


def server_log() -> Path:
    """The server's log file; a clear failure where there is none to read."""
    logs = sorted(LOGS.glob("postgresql-*-main.log"), key=lambda p: p.stat().st_mtime) if LOGS.is_dir() else []
    if not logs:
        raise AssertionError(
            "counting statements needs PostgreSQL's server log: Debian's postgresql package writes it to "
            f"{LOGS}/postgresql-<version>-main.log (`apt-get install postgresql`), readable by this user")
    return logs[-1]


_WRITES = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\S+\s+(AS\s+\S+\s+)?SET|DELETE\s+FROM)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Statements:
    """The statements some backends sent in a window, in order (``pids``: the backend of each)."""

    sql: list[str]
    pids: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.sql)

    @property
    def transactions(self) -> int:
        """Transactions that wrote or locked: each BEGIN … COMMIT/ROLLBACK, and each statement that
        writes outside one (autocommit mode: a transaction of its own to PostgreSQL). Reads outside
        any transaction are counted among the statements only."""
        open_: set[int] = set()
        count = 0
        for pid, sql in zip(self.pids or [0] * len(self.sql), self.sql, strict=True):
            word = sql.strip().upper()
            if word.startswith("BEGIN"):
                open_.add(pid)
            elif word in ("COMMIT", "ROLLBACK"):
                open_.discard(pid)
                count += 1
            elif pid not in open_ and _WRITES.search(sql):
                count += 1
        return count

    def summary(self) -> str:
        seen: dict[str, int] = {}
        for s in self.sql:
            key = " ".join(s.split())[:80] or "(prepared statement)"
            seen[key] = seen.get(key, 0) + 1
        return "\n".join(f"{n:4d}  {k}" for k, n in sorted(seen.items(), key=lambda kv: -kv[1]))


class StatementLog:
    """``log_statement = 'all'`` on ``database`` while it is entered (new connections pick it up)."""

    def __init__(self, dsn: str, database: str) -> None:
        self.dsn, self.database = dsn, database
        self.path = server_log()

    def __enter__(self) -> StatementLog:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{self.database}" SET log_statement = \'all\'')
        return self

    def __exit__(self, *exc: object) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{self.database}" RESET log_statement')

    def mark(self) -> int:
        """Where the log ends now."""
        return self.path.stat().st_size

    def since(self, offset: int, app: str) -> Statements:
        """The statements of ``app``'s backends on this database after ``offset``. A marker statement is
        sent and waited for first: everything the server logged before it is then in the file."""
        marker = f"statement-log-marker-{uuid.uuid4().hex}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"SELECT '{marker}'")
            pids = {row[0] for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                (self.database, app))}
        deadline = time.monotonic() + GENEROUS
        while True:
            with self.path.open("rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", errors="replace")
            if marker in text:
                break
            assert time.monotonic() < deadline, f"the marker never reached {self.path}"
            time.sleep(0.05)
        sql: list[str] = []
        backends: list[int] = []
        current: list[str] | None = None
        for line in text.split(marker, 1)[0].splitlines():
            match = _LINE.match(line)
            if match is not None:
                current = None
                if match["db"] == self.database and int(match["pid"]) in pids:
                    current = [match["sql"]]
                    sql.append("")
                    backends.append(int(match["pid"]))
            elif current is not None and line.startswith(("\t", " ")):
                current.append(line.strip())  # a statement's further lines
            else:
                current = None
            if current is not None:
                sql[-1] = " ".join(current).strip()
        return Statements(sql, backends)
