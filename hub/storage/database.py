"""Engine set-up and the two kinds of unit of work: `read()` and `write()`.

SQLite: WAL (readers never block the writer), `busy_timeout`, foreign keys ON, and write
transactions start with `BEGIN IMMEDIATE`: pysqlite's deferred BEGIN followed by a read-then-write
upgrade fails at once with SQLITE_BUSY, which busy_timeout does not cover (SQLAlchemy docs,
"Serializable isolation / Savepoints / Transactional DDL" recipe). Writers inside this process are
also serialised by a lock, so they queue fairly instead of spinning in SQLite's busy handler.
Nothing here is SQLite-only SQL: PostgreSQL works by URL.

A write may be asked not to wait (`non_blocking_writes`, for writes run on the event loop itself,
see hub/writer.py): it then raises `WriteBusyError` at once, before doing anything, if another
writer holds the in-process lock or SQLite's write lock. And so that no commit stalls on disk I/O,
SQLite's automatic checkpoint (copying the WAL into the database file, with an fsync) is off; the
hub's housekeeping thread calls `checkpoint()` instead.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.storage.statements import CompiledStatements, Statements

SQLITE_BUSY_TIMEOUT_MS = 10_000
_READ_ONLY = "sc_read_only"
_SINGLE_STATEMENT = "sc_single_statement"
_NON_BLOCKING_WRITES: ContextVar[bool] = ContextVar("sc_non_blocking_writes", default=False)


class WriteBusyError(Exception):
    """Another writer holds the write lock, and this write was asked not to wait for it.

    Raised before the write has read or changed anything: it can simply be run again elsewhere.
    """


@contextmanager
def non_blocking_writes() -> Iterator[None]:
    """Writes started inside raise `WriteBusyError` instead of waiting for another writer."""
    token = _NON_BLOCKING_WRITES.set(True)
    try:
        yield
    finally:
        _NON_BLOCKING_WRITES.reset(token)


def _begin_immediate_without_waiting(driver_connection: Any) -> None:
    """BEGIN IMMEDIATE that fails at once (WriteBusyError) if another connection is writing."""
    driver_connection.execute("PRAGMA busy_timeout=0")
    try:
        driver_connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
            raise
        raise WriteBusyError("another connection is writing to the database") from exc
    finally:
        driver_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def make_engine(url: str) -> Engine:
    """Create an engine for `url`, with the SQLite pragmas and BEGIN IMMEDIATE for writers."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=20,
        max_overflow=40,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not pysqlite) emit BEGIN, so that we choose DEFERRED or IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; durable at checkpoints
        # No checkpoint inside a commit: its fsync would stall whoever commits (possibly the
        # event loop). Database.checkpoint() runs from the hub's housekeeping thread; and
        # SQLite checkpoints anyway when the last connection to the file closes.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(_SINGLE_STATEMENT):
            return  # autocommit: one SELECT is its own consistent snapshot, BEGIN would be waste
        if options.get(_READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        elif _NON_BLOCKING_WRITES.get():
            _begin_immediate_without_waiting(connection.connection.driver_connection)
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """Owns the engine; hands out sessions. Repositories return plain objects, never ORM rows."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._reader = self.engine.execution_options(**{_READ_ONLY: True})
        self._single_reader = self.engine.execution_options(
            **{_READ_ONLY: True, _SINGLE_STATEMENT: True}
        )
        # An in-process SQLite file in WAL mode answers an indexed read in microseconds and never
        # waits for a lock; a networked database (PostgreSQL) needs a round trip per statement.
        # So with SQLite, quick reads and writes run on the event loop, statements are compiled
        # once and run on the DBAPI connection, and the WAL is checkpointed by housekeeping.
        self.is_local_sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock()
        # Compiled once, run on the DBAPI connection: only where the database is in-process.
        self.compiled_statements = (
            CompiledStatements(self.engine.dialect) if self.is_local_sqlite else None
        )
        self._raw_by_thread = threading.local()
        self._raw_connections: list[Any] = []
        self._raw_lock = threading.Lock()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (deferred BEGIN on SQLite); closing it ends the transaction."""
        with Session(self._reader, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection for ONE read-only statement on a hot path (token checks, claim
        pre-check): no ORM cost, and on SQLite no BEGIN/ROLLBACK round trips around it."""
        with self._single_reader.connect() as connection:
            yield connection

    def quick_read_one(self, statement: Select[Any], params: dict[str, Any]) -> Any | None:
        """The first row of a prebuilt SELECT (attribute access by column key), or None.

        For the reads every API call makes (token check, claim pre-check). On SQLite it runs the
        statement, compiled once, on this thread's own DBAPI connection in autocommit mode: the
        SQLAlchemy layers (checking a connection out and in, the execution context, the result
        object) cost ~0.3 ms per call here, ten times SQLite's own work, and showed up as a third
        of the hub's time in a 50-way claim race (docs/performance.md). Types are converted by
        the columns' own processors, so rows match what SQLAlchemy would return.
        """
        compiled = self.compiled_statements
        if compiled is None or compiled.get(statement, params) is None:
            with self.read_connection() as connection:
                return connection.execute(statement, params).first()
        return self._thread_statements().first(statement, params)

    def statements(
        self, connection: Connection, before: Callable[[], None] | None = None
    ) -> Statements:
        """Prebuilt statements on `connection`'s transaction (hub/storage/statements.py)."""
        return Statements(connection, self.compiled_statements, before)

    def session_statements(self, session: Session) -> Statements:
        """Prebuilt statements in `session`'s transaction, seeing its pending ORM changes."""
        return Statements(session.connection(), self.compiled_statements, before=session.flush)

    def _thread_statements(self) -> Statements:
        statements = getattr(self._raw_by_thread, "statements", None)
        if statements is None:
            statements = Statements(
                None, self.compiled_statements, driver_connection=self._raw_connection()
            )
            self._raw_by_thread.statements = statements
        return statements

    def _raw_connection(self) -> Any:
        connection = getattr(self._raw_by_thread, "connection", None)
        if connection is None:
            # Checked out of the pool for good (the pool's connect hook has set WAL, busy
            # timeout, autocommit); closed by dispose().
            pooled = self._single_reader.raw_connection()
            connection = pooled.driver_connection
            self._raw_by_thread.connection = connection
            with self._raw_lock:
                # Keep the pool's wrapper referenced: dropping it would hand the connection
                # back to the pool while this thread still uses it.
                self._raw_connections.append(pooled)
        return connection

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any exception."""
        with (
            self.write_locked(),
            Session(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def write_locked(self) -> Iterator[None]:
        """Hold the in-process writer lock (to publish events in commit order); under
        `non_blocking_writes`, WriteBusyError if another thread holds it."""
        if _NON_BLOCKING_WRITES.get():
            if not self._write_lock.acquire(blocking=False):
                raise WriteBusyError("another write of this hub is in progress")
        else:
            self._write_lock.acquire()
        try:
            yield
        finally:
            self._write_lock.release()

    def checkpoint(self) -> None:
        """Copy committed WAL frames into the SQLite database file (no-op elsewhere).

        PASSIVE: never waits for, nor blocks, readers and writers. Called from a worker thread
        every housekeeping pass, so that the WAL stays small without a commit ever paying for
        the copy and its fsync.
        """
        if not self.is_local_sqlite:
            return
        with self.read_connection() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def dispose(self) -> None:
        """Close every pooled connection."""
        with self._raw_lock:
            raw, self._raw_connections = self._raw_connections, []
            self._raw_by_thread = threading.local()
        for pooled in raw:
            pooled.close()
        self.engine.dispose()
