"""One round trip for many statements: psycopg's pipeline mode under a SQLAlchemy connection.

A unit of work stages its hot-path writes here (hand-written SQL, many rows in one JSON parameter);
they go to the server together with the next read that needs them, or with the COMMIT. On a
hot SKU the time a group of reservations holds the stock row lock is then a couple of round
trips instead of a dozen — and each round trip is most of the cost on a small machine.

The statements are fixed texts, prepared on the server at first use (``prepare=True``).

Staged writes are sent before any statement of the same transaction that reads the tables
they touch (repositories call ``flush`` first); a failure among them aborts the transaction
like any failed statement would.

At the commit the staged writes become one statement (data-modifying CTEs; each checked write —
an optimistic save — ends in ``emporium_expect_one``, which refuses the whole statement when its row
changed since it was read). A unit of work that took no lock and read nothing inside a transaction
then sends that one statement in autocommit mode: no BEGIN, no COMMIT, one round trip, and still all
or nothing, as every statement is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from application.ports.errors import Unavailable
from domain.shared.errors import ConcurrencyConflict

Params = Sequence[Any] | Mapping[str, Any]
CHANGED_SINCE_READ = "EM409"  # raised by emporium_expect_one (migration 0020)


@dataclass(frozen=True, slots=True)
class Write:
    sql: str  # one INSERT / UPDATE / DELETE, positional parameters, no RETURNING
    params: Sequence[Any]
    expect_one: str | None  # what must change exactly one row ("checkout 42"), or None


def one_statement(writes: Sequence[Write]) -> tuple[str, list[Any]]:
    """Several writes as one statement: each a data-modifying CTE, the checked ones counted by
    ``emporium_expect_one`` (which aborts the statement, and with it every write, on a miss).
    A single unchecked write is sent as it is."""
    if len(writes) == 1 and writes[0].expect_one is None:
        return writes[0].sql, list(writes[0].params)
    # Only our own fixed statement texts are joined here; every value stays a parameter.
    parts: list[str] = []
    params: list[Any] = []
    checks: list[str] = []
    for n, write in enumerate(writes):
        parts.append(f"w{n} AS ({write.sql.strip()}{' RETURNING 1' if write.expect_one else ''})")
        params.extend(write.params)
        if write.expect_one is not None:
            checks.append(f"emporium_expect_one((SELECT count(*) FROM w{n}), %s)")  # noqa: S608
    params.extend(write.expect_one for write in writes if write.expect_one is not None)
    return f"WITH {', '.join(parts)} SELECT {', '.join(checks) or '1'}", params


def json_rows(rows: list[dict[str, Any]]) -> str:
    """Many rows as one parameter for ``jsonb_to_recordset``: encoded by msgspec in C, whatever
    the row count (per-element array parameters cost Python time for every value)."""
    return msgspec.json.encode(rows).decode()


class Pipeline:
    """``lazy``: the connection is in autocommit mode and reads outside any transaction; the
    transaction opens (psycopg sends BEGIN with the next statement) only before the first write or
    lock — a unit of work that only reads costs no BEGIN and no ROLLBACK."""

    def __init__(
        self, conn: AsyncConnection, *, lazy: bool = False, driver: psycopg.AsyncConnection[Any] | None = None
    ) -> None:
        self._conn = conn
        self._driven = driver  # the connection's psycopg connection, when the caller has it at hand
        self._staged: list[Write] = []
        self._lazy = lazy
        self._begun = not lazy

    async def begin(self) -> None:
        """Before a write or a lock: from here on the statements share one transaction."""
        if not self._begun:
            await (await self._driver()).set_autocommit(False)
            self._begun = True

    async def ended(self) -> None:
        """After COMMIT or ROLLBACK: reads go outside any transaction again."""
        if self._lazy and self._begun:
            await (await self._driver()).set_autocommit(True)
            self._begun = False

    def stage(self, sql: str, params: Sequence[Any], *, expect_one: str | None = None) -> None:
        """Hold a write back until the commit (or the next read of this transaction). ``expect_one``:
        the write must change exactly one row (an optimistic save), else the whole unit of work is
        refused with ``ConcurrencyConflict`` — nothing of it is written."""
        self._staged.append(Write(sql, params, expect_one))

    async def _driver(self) -> psycopg.AsyncConnection[Any]:
        if self._driven is None:  # asked of SQLAlchemy once (a greenlet switch), then kept
            raw = await self._conn.get_raw_connection()
            self._driven = raw.driver_connection
        assert self._driven is not None
        return self._driven

    async def query(self, *queries: tuple[str, Params]) -> list[list[Any]]:
        """Send the staged writes, then ``queries``, in one round trip; the rows of each query."""
        await self.begin()  # staged writes, or hand-written SQL that may lock (FOR UPDATE)
        driver = await self._driver()
        staged, self._staged = self._staged, []
        cursors = []
        try:
            async with driver.pipeline():
                for write_sql, write_params in _statements(staged):
                    await driver.execute(write_sql, write_params, prepare=True)
                for sql, params in queries:
                    cursor = driver.cursor(row_factory=namedtuple_row)
                    await cursor.execute(sql, params, prepare=True)
                    cursors.append(cursor)
            return [await cursor.fetchall() for cursor in cursors]
        except psycopg.Error as error:
            raise _refused(error) from error

    async def read(self, sql: str, params: Params) -> list[Any]:
        """One query's rows, outside any transaction if none is open (a plain read: no lock); after
        staged writes, inside the transaction that sends them first."""
        if self._staged or self._begun:
            return (await self.query((sql, params)))[0]
        driver = await self._driver()
        try:
            cursor = driver.cursor(row_factory=namedtuple_row)
            await cursor.execute(sql, params, prepare=True)
            return await cursor.fetchall()
        except psycopg.Error as error:
            raise _refused(error) from error

    async def flush(self) -> None:
        if self._staged:
            await self.query()

    async def commit(self) -> None:
        """The staged writes and COMMIT in one round trip (the caller then closes the SQLAlchemy
        transaction, which finds nothing left to do on the server). With no transaction open (lazy:
        nothing was locked or read in one), the writes go as one statement in autocommit mode."""
        driver = await self._driver()
        staged, self._staged = self._staged, []
        try:
            statements = _statements(staged)
            if not self._begun and len(statements) <= 1:
                for sql, params in statements:  # one statement: atomic alone, no BEGIN or COMMIT needed
                    await driver.execute(sql, params, prepare=True)
                return
            await self.begin()
            async with driver.pipeline():
                for sql, params in statements:
                    await driver.execute(sql, params, prepare=True)
                await driver.commit()
        except psycopg.Error as error:
            raise _refused(error) from error

    def discard(self) -> None:
        self._staged.clear()


def _statements(staged: list[Write]) -> list[tuple[str, Sequence[Any]]]:
    """The staged writes as statements for a transaction, in order: as few as can be, each joining
    writes of different texts only (two CTEs of one statement must never change the same row, and
    the same write twice — one row saved twice — might)."""
    statements: list[tuple[str, Sequence[Any]]] = []
    run: list[Write] = []
    texts: set[str] = set()
    for write in staged:
        if write.sql in texts:
            statements.append(one_statement(run))
            run, texts = [], set()
        run.append(write)
        texts.add(write.sql)
    if run:
        statements.append(one_statement(run))
    return statements


# A connection lost (no SQLSTATE: the socket closed) or ended by the server (57P01 admin shutdown,
# 57P02 crash shutdown, 57P03 cannot connect now) or any connection exception (class 08).
_LOST = frozenset({"57P01", "57P02", "57P03"})


def _refused(error: psycopg.Error) -> Exception:
    if error.sqlstate == CHANGED_SINCE_READ:
        return ConcurrencyConflict(error.diag.message_primary or "changed since it was read")
    if isinstance(error, psycopg.OperationalError) and (
        error.sqlstate is None or error.sqlstate in _LOST or error.sqlstate.startswith("08")
    ):
        # What the engine's handle_error does for SQLAlchemy's statements (adapters.postgres.engine):
        # the database briefly out of reach is 503 + Retry-After, which a client retries with its key.
        return Unavailable("the database connection was lost; retry", retry_after=1)
    return _as_sqlalchemy(error)


def _as_sqlalchemy(error: psycopg.Error) -> DBAPIError:
    # Callers handle SQLAlchemy's exceptions (IntegrityError …) whichever path sent the statement.
    # (A lost connection never gets here: ``_refused`` makes it Unavailable. The pool drops it when
    # the unit of work's rollback fails on it, through the engine's disconnect handling.)
    wrapped: DBAPIError = DBAPIError.instance(None, None, error, psycopg.Error)  # type: ignore[arg-type]
    return wrapped


class Flushing:
    """The repositories' view of the unit of work's connection: it sends the staged writes
    before each statement, so a transaction always reads its own writes, whichever repository
    staged them. (Only what the repositories use of ``AsyncConnection`` is offered.)"""

    def __init__(self, conn: AsyncConnection, pipeline: Pipeline) -> None:
        self._conn = conn
        self._pipeline = pipeline

    async def _flush(self) -> None:
        # A staged write refused here belongs to an earlier step, not to the statement about to
        # run: it must not look like that statement's IntegrityError to a caller that handles one.
        try:
            await self._pipeline.flush()
        except DBAPIError as error:
            raise StagedWriteFailed(str(error.orig)) from error

    async def _before(self, statement: Any) -> None:
        await self._flush()
        if not _plain_read(statement):
            await self._pipeline.begin()

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        await self._before(statement)
        return await self._conn.execute(statement, parameters)

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        await self._before(statement)
        return await self._conn.scalar(statement, parameters)

    async def scalars(self, statement: Any, parameters: Any = None) -> Any:
        await self._before(statement)
        return await self._conn.scalars(statement, parameters)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[Any]:
        """A SAVEPOINT after the staged writes; what is staged inside it is sent before it is
        released, or dropped with it when it rolls back."""
        await self._flush()
        await self._pipeline.begin()
        async with self._conn.begin_nested() as savepoint:
            try:
                yield savepoint
            except BaseException:
                self._pipeline.discard()
                raise
            await self._flush()


def _plain_read(statement: Any) -> bool:
    """A SELECT that takes no lock: it may run outside the transaction. Anything else — a write, a
    ``FOR UPDATE``, hand-written SQL (an advisory lock) — opens the transaction first."""
    return isinstance(statement, Select) and statement._for_update_arg is None


class StagedWriteFailed(RuntimeError):
    """The database refused a write that was held back for the commit (the transaction is over)."""
