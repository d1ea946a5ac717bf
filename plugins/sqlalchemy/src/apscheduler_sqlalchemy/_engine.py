"""Engines and transactions: one code path for sync and async SQLAlchemy engines.

Every store operation is a plain function ``op(connection) -> result`` that runs inside
one transaction. :class:`TransactionRunner` runs it

* on a **sync** engine in a worker thread (one thread hop per operation), or
* on an **async** engine through ``AsyncConnection.run_sync`` (SQLAlchemy's greenlet
  bridge, no thread),

so the SQL logic is written once. SQLite connections are put in WAL mode with a busy
timeout, and write transactions start with ``BEGIN IMMEDIATE`` so that a transaction
never has to upgrade a read lock to a write lock (the cause of ``database is locked``
errors that a busy timeout cannot fix). Inside one process, SQLite write transactions
are also serialised with a lock, so threads do not spin on the busy handler.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

T = TypeVar("T")

#: SQLite busy timeout, in milliseconds: how long a writer waits for another process.
SQLITE_BUSY_TIMEOUT_MS = 30_000

_ASYNC_DRIVERS = {"asyncpg", "aiosqlite", "asyncmy", "aiomysql", "psycopg", "psycopg_async"}
_DEFAULT_ASYNC_DRIVER = {
    "postgresql": ("asyncpg", "psycopg"),
    "mysql": ("asyncmy", "aiomysql"),
    "mariadb": ("asyncmy", "aiomysql"),
}


def engine_from_url(url: str | URL, **engine_options: Any) -> Engine | AsyncEngine:
    """Create the engine the store uses for ``url``.

    * ``sqlite:///file`` (no driver) gets a **sync** pysqlite engine: driven from a worker
      thread it needs one thread hop per transaction, where aiosqlite needs one per
      statement, so it is several times faster.
    * ``postgresql://`` and ``mysql://``/``mariadb://`` without a driver get an async
      engine with asyncpg (else psycopg) / asyncmy when installed.
    * An explicit driver is used as given: async drivers get an async engine, others a
      sync one.
    """
    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if not driver and backend in _DEFAULT_ASYNC_DRIVER:
        for candidate in _DEFAULT_ASYNC_DRIVER[backend]:
            if importlib.util.find_spec(candidate) is not None:
                parsed = parsed.set(drivername=f"{backend}+{candidate}")
                driver = candidate
                break
    if backend in ("mysql", "mariadb"):
        # Gap locks of REPEATABLE READ only cause deadlocks in a queue-like workload
        engine_options.setdefault("isolation_level", "READ COMMITTED")
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or "mode=memory" in str(parsed):
            engine_options.setdefault("poolclass", StaticPool)
        engine_options.setdefault("connect_args", {}).setdefault("check_same_thread", False)
    if backend in ("postgresql", "mysql", "mariadb"):
        engine_options.setdefault("pool_pre_ping", False)
    if driver in _ASYNC_DRIVERS:
        return create_async_engine(parsed, **engine_options)
    return create_engine(parsed, **engine_options)


def configure_sqlite(sync_engine: Engine) -> None:
    """Make every new connection of a SQLite engine use WAL and a busy timeout, and leave
    transaction control to the store (``BEGIN IMMEDIATE`` for writes)."""

    @event.listens_for(sync_engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let the store issue BEGIN itself (pysqlite's implicit BEGIN is DEFERRED)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            database = sync_engine.url.database or ""
            if database not in ("", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
                # In WAL mode NORMAL never corrupts the database; a power loss (not a
                # process crash) may roll back the last transactions.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()


class TransactionRunner:
    """Runs ``op(connection)`` in one transaction on a sync or async engine."""

    def __init__(self, engine: Engine | AsyncEngine, *, max_threads: int = 8) -> None:
        self.engine = engine
        self.is_async = isinstance(engine, AsyncEngine)
        self.sync_engine: Engine = (
            engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        )
        self.is_sqlite = self.sync_engine.dialect.name == "sqlite"
        self._limiter = anyio.CapacityLimiter(max_threads)
        self._write_lock: anyio.Lock | None = anyio.Lock() if self.is_sqlite else None
        # Short SQLite write transactions on a database file run on the event loop's
        # thread (see ``_run_inline``); an in-memory database has one shared connection,
        # which must stay with the worker threads' serialised use.
        database = self.sync_engine.url.database or ""
        self.inline_writes = (
            self.is_sqlite
            and not self.is_async
            and database not in ("", ":memory:")
            and "mode=memory" not in str(self.sync_engine.url)
        )
        self._inline_conn: Connection | None = None
        # The same pool in autocommit mode, for single-statement operations
        self._autocommit_engine: Engine | AsyncEngine | None = (
            None if self.is_sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._inline_driver_conn: Any = None

    async def run(
        self,
        op: Callable[[Connection], T],
        *,
        write: bool = True,
        inline: bool = False,
        single_statement: bool = False,
    ) -> T:
        """Run ``op`` in a transaction and commit. Cancellation waits for the transaction
        to finish (commit or roll back) so no connection is left mid-transaction.

        ``inline``: the operation is short (a bounded number of rows); on a SQLite file it
        may run on the calling thread (see :meth:`_run_inline`).

        ``single_statement``: the operation executes exactly one statement, which is
        atomic on its own; on a client/server database it then runs in autocommit mode,
        sparing the ``BEGIN`` and ``COMMIT`` round trips."""
        if single_statement and self._autocommit_engine is not None:
            return await self._run_autocommit(op)
        if write and self._write_lock is not None:
            async with self._write_lock:
                if inline and self.inline_writes:
                    try:
                        return self._run_inline(op, write)
                    except _DatabaseBusy:
                        pass  # another process writes: wait for it in a worker thread
                return await self._run(op, write)
        if inline and self.inline_writes:
            # A short read: WAL readers never wait for a lock
            return self._run_inline(op, write)
        return await self._run(op, write)

    def _run_inline(self, op: Callable[[Connection], T], write: bool = True) -> T:
        """Run a transaction on the event loop's thread; a write one only if SQLite's
        write lock is free at once.

        A short SQLite transaction (WAL, ``synchronous = NORMAL``: no fsync at commit)
        takes tens of microseconds, less than the hand-off to a worker thread and back,
        which dominated the store's cost per job. These transactions use one connection
        kept open (no pool checkout per transaction) whose busy timeout is 0: the loop
        never waits for another process's lock. If another process holds it,
        :class:`_DatabaseBusy` sends the transaction to a worker thread, which waits with
        the normal busy timeout. (Writers of this process are serialised by
        ``_write_lock`` before this point, so only the loop uses this connection.)
        """
        conn = self._inline_conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._inline_conn = self.sync_engine.connect()
        driver_conn = conn.connection.driver_connection
        if driver_conn is not self._inline_driver_conn:
            # A new DBAPI connection (first use, or the pool replaced an invalidated one)
            assert driver_conn is not None
            driver_conn.execute("PRAGMA busy_timeout = 0")
            self._inline_driver_conn = driver_conn
        with conn.begin():
            try:
                driver_conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as exc:
                message = str(exc).lower()
                if write and ("locked" in message or "busy" in message):
                    raise _DatabaseBusy from exc
                raise
            return op(conn)

    def close(self) -> None:
        """Close the connection kept for inline transactions (the engine stays usable)."""
        conn, self._inline_conn, self._inline_driver_conn = self._inline_conn, None, None
        if conn is not None:
            conn.close()

    async def _run_autocommit(self, op: Callable[[Connection], T]) -> T:
        engine = self._autocommit_engine
        if isinstance(engine, AsyncEngine):
            with anyio.CancelScope(shield=True):
                async with engine.connect() as conn:
                    return await conn.run_sync(op)

        def run_sync() -> T:
            assert isinstance(engine, Engine)
            with engine.connect() as conn:
                return op(conn)

        return await anyio.to_thread.run_sync(run_sync, limiter=self._limiter)

    async def _run(self, op: Callable[[Connection], T], write: bool) -> T:
        if isinstance(self.engine, AsyncEngine):
            with anyio.CancelScope(shield=True):
                async with self.engine.connect() as conn:
                    return await conn.run_sync(self._in_transaction, op, write)
        return await anyio.to_thread.run_sync(self._run_sync, op, write, limiter=self._limiter)

    def _run_sync(self, op: Callable[[Connection], T], write: bool) -> T:
        with self.sync_engine.connect() as conn:
            return self._in_transaction(conn, op, write)

    def _in_transaction(self, conn: Connection, op: Callable[[Connection], T], write: bool) -> T:
        with conn.begin():
            if self.is_sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
            return op(conn)


class _DatabaseBusy(Exception):
    """SQLite's write lock is held by another process (inline attempt only)."""


_PG_TRANSIENT_STATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"}
_MYSQL_TRANSIENT_CODES = {1040, 1205, 1213, 2002, 2003, 2006, 2013, 2055, 1927}


def is_transient(exc: BaseException) -> bool:
    """Tell whether retrying the whole transaction may succeed: lost or refused
    connections, deadlocks, serialization failures, lock timeouts and a busy SQLite file.
    Constraint violations and programming errors are not transient."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if isinstance(sqlstate, str) and (
            sqlstate.startswith("08") or sqlstate in _PG_TRANSIENT_STATES
        ):
            return True
        args = getattr(orig, "args", ())
        if args and isinstance(args[0], int) and args[0] in _MYSQL_TRANSIENT_CODES:
            return True
        message = str(orig).lower()
        if "database is locked" in message or "database is busy" in message:
            return True
        if any(
            text in message
            for text in ("connection was closed", "connection is closed", "server closed")
        ):
            return True
        return _chain_has_connection_error(orig)
    return _chain_has_connection_error(exc)


def _chain_has_connection_error(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (OSError, ConnectionError, TimeoutError)):
            return True
        name = type(exc).__name__
        if name in ("ConnectionDoesNotExistError", "InterfaceError", "CannotConnectNowError"):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
