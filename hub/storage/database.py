"""Engine set-up and the two kinds of unit of work: `read()` and `write()`.

SQLite: WAL (readers never block the writer), `busy_timeout`, foreign keys ON, and write
transactions start with `BEGIN IMMEDIATE`: pysqlite's deferred BEGIN followed by a read-then-write
upgrade fails at once with SQLITE_BUSY, which busy_timeout does not cover (SQLAlchemy docs,
"Serializable isolation / Savepoints / Transactional DDL" recipe). Writers inside this process are
also serialised by a lock, so they queue fairly instead of spinning in SQLite's busy handler.
Nothing here is SQLite-only SQL: PostgreSQL works by URL.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

SQLITE_BUSY_TIMEOUT_MS = 10_000
_READ_ONLY = "sc_read_only"
_SINGLE_STATEMENT = "sc_single_statement"


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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(_SINGLE_STATEMENT):
            return  # autocommit: one SELECT is its own consistent snapshot, BEGIN would be waste
        if options.get(_READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass(frozen=True)
class _CompiledRead:
    """A SELECT compiled once for SQLite's DBAPI: SQL text, bind order and type processors."""

    sql: str
    bind_names: tuple[str, ...]
    bind_defaults: dict[str, Any]
    bind_processors: tuple[Callable[[Any], Any] | None, ...]
    row_type: type
    result_processors: tuple[Callable[[Any], Any] | None, ...]


def _compile_read(statement: Select[Any], engine: Engine) -> _CompiledRead | None:
    """Compile `statement` for a plain DBAPI cursor, or None if it needs SQLAlchemy at run time
    (expanding IN lists are rendered per call)."""
    dialect = engine.dialect
    compiled = statement.compile(dialect=dialect)
    sql = str(compiled)
    if "POSTCOMPILE" in sql or compiled.positiontup is None:
        return None
    names = tuple(compiled.positiontup)
    columns = list(statement.selected_columns)
    return _CompiledRead(
        sql=sql,
        bind_names=names,
        bind_defaults=dict(compiled.params),
        bind_processors=tuple(
            compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names
        ),
        row_type=namedtuple("QuickRow", [c.key for c in columns]),  # type: ignore[misc]
        result_processors=tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ),
    )


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
        self.reads_are_local = self.engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock()
        self._compiled_reads: dict[int, tuple[Select[Any], _CompiledRead | None]] = {}
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
        if not self.reads_are_local:
            with self.read_connection() as connection:
                return connection.execute(statement, params).first()
        cached = self._compiled_reads.get(id(statement))
        if cached is None or cached[0] is not statement:
            cached = (statement, _compile_read(statement, self.engine))
            self._compiled_reads[id(statement)] = cached
        compiled = cached[1]
        if compiled is None:
            with self.read_connection() as connection:
                return connection.execute(statement, params).first()
        values = []
        for name, process in zip(compiled.bind_names, compiled.bind_processors, strict=True):
            value = params[name] if name in params else compiled.bind_defaults[name]
            values.append(process(value) if process else value)
        cursor = self._raw_connection().execute(compiled.sql, values)
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()  # ends the statement, and with it the read snapshot
        if raw is None:
            return None
        return compiled.row_type(
            *(
                process(value) if process else value
                for process, value in zip(compiled.result_processors, raw, strict=True)
            )
        )

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
            self._write_lock,
            Session(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def write_locked(self) -> Iterator[None]:
        """Hold the in-process writer lock (to publish events in commit order)."""
        with self._write_lock:
            yield

    def dispose(self) -> None:
        """Close every pooled connection."""
        with self._raw_lock:
            raw, self._raw_connections = self._raw_connections, []
            self._raw_by_thread = threading.local()
        for pooled in raw:
            pooled.close()
        self.engine.dispose()
