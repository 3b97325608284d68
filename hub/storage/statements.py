"""Prebuilt Core statements run with the least overhead the database allows.

On the hub's hot paths (a device calling in, hanging up, every event's views) SQLAlchemy's
per-execution layers — the statement's cache key, the execution context, the result object — cost
~0.1 ms each time, ten times what an in-process SQLite file needs to answer an indexed statement
(docs/performance.md, Hub). So on SQLite a statement is compiled ONCE for the dialect and then run
on the DBAPI connection directly, with the columns' own bind and result processors: the rows are
the values SQLAlchemy itself would return. On any other database (PostgreSQL: a network round trip
per statement dwarfs that overhead) the same calls go through `Connection.execute`.

Only statements built once at import time belong here: the compile cache is keyed by the
statement object, so a statement built per call would grow it for ever.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Delete, Dialect, Executable, Insert, Select, Update

Params = dict[str, Any]
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    """A statement compiled for a positional-parameter DBAPI: SQL, bind order, processors."""

    sql: str
    bind_names: tuple[str, ...]
    bind_defaults: Params
    bind_processors: tuple[Processor, ...]
    row_type: type | None  # None for statements that return no rows
    result_processors: tuple[Processor, ...]

    def values(self, params: Params | None) -> list[Any]:
        """The DBAPI parameter list for `params` (missing names take the statement's values)."""
        params = params or {}
        values = []
        for name, process in zip(self.bind_names, self.bind_processors, strict=True):
            value = params[name] if name in params else self.bind_defaults[name]
            values.append(process(value) if process else value)
        return values

    def row(self, raw: Any) -> Any:
        """A DBAPI row as a named tuple of converted values."""
        assert self.row_type is not None
        return self.row_type(
            *(
                process(value) if process else value
                for process, value in zip(self.result_processors, raw, strict=True)
            )
        )


def _compile(
    statement: Executable, dialect: Dialect, column_keys: tuple[str, ...] | None
) -> _Compiled | None:
    """Compile `statement` once, or None if it needs SQLAlchemy at run time (expanding IN
    lists are rendered per call; named-parameter drivers are not handled here).

    An INSERT or UPDATE is compiled for `column_keys`, the names its callers pass: as with
    SQLAlchemy's own `execute(insert(table), params)`, they choose the columns written."""
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=dialect, column_keys=list(column_keys) if column_keys is not None else None
    )
    sql = str(compiled)
    if "POSTCOMPILE" in sql or compiled.positiontup is None:
        return None
    if compiled.insert_prefetch or compiled.update_prefetch:
        return None  # a Python-side column default that SQLAlchemy fills in per execution
    names = tuple(compiled.positiontup)
    row_type: type | None = None
    result_processors: tuple[Processor, ...] = ()
    if isinstance(statement, Select):
        columns = list(statement.selected_columns)
        # rename: an unlabelled expression (count(...)) has no key; it is read by position.
        row_type = namedtuple(  # type: ignore[misc, no-redef]
            "Row", [str(c.key) for c in columns], rename=True
        )
        result_processors = tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        )
    elif not isinstance(statement, Insert | Update | Delete):
        return None
    return _Compiled(
        sql=sql,
        bind_names=names,
        # Values bound in the statement itself (`id == 1`); a required parameter has none, so
        # leaving it out is a KeyError rather than a silent NULL.
        bind_defaults={
            name: value
            for name, value in compiled.params.items()
            if not compiled.binds[name].required
        },
        bind_processors=tuple(
            compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names
        ),
        row_type=row_type,
        result_processors=result_processors,
    )


class CompiledStatements:
    """The per-database cache of compiled statements (thread-safe; entries never change)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._cache: dict[tuple[int, tuple[str, ...] | None], tuple[Executable, _Compiled | None]]
        self._cache = {}
        self._lock = threading.Lock()

    def get(self, statement: Executable, params: Params | None) -> _Compiled | None:
        """The compiled form of `statement` (compiled on first use), or None (use SQLAlchemy)."""
        keys = tuple(sorted(params or ())) if isinstance(statement, Insert | Update) else None
        cached = self._cache.get((id(statement), keys))
        if cached is None or cached[0] is not statement:
            with self._lock:
                cached = (statement, _compile(statement, self.dialect, keys))
                self._cache[(id(statement), keys)] = cached
        return cached[1]


class Statements:
    """Runs prebuilt statements in one connection's current transaction.

    `compiled` is None where the direct path does not apply (not SQLite): every call then goes
    through SQLAlchemy. `before` runs ahead of every statement (a session's flush, so that these
    reads see the transaction's pending ORM changes).
    """

    def __init__(
        self,
        connection: Connection | None,
        compiled: CompiledStatements | None,
        before: Callable[[], None] | None = None,
        driver_connection: Any = None,
    ) -> None:
        if connection is None and (compiled is None or driver_connection is None):
            raise ValueError("no SQLAlchemy connection: give the compiled cache and a driver")
        self._connection = connection
        self._compiled = compiled
        self._before = before
        self._dbapi: Any = driver_connection

    @property
    def connection(self) -> Connection:
        """The SQLAlchemy connection (for statements that are not prebuilt)."""
        if self._connection is None:
            raise RuntimeError("these statements run on a bare driver connection")
        return self._connection

    def first(self, statement: Select[Any], params: Params | None = None) -> Any | None:
        """The first row (attribute access by column key), or None."""
        compiled = self._prepare(statement, params)
        if compiled is None:
            return self.connection.execute(statement, params or {}).first()
        cursor = self._driver().execute(compiled.sql, compiled.values(params))
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return compiled.row(raw) if raw is not None else None

    def all(self, statement: Select[Any], params: Params | None = None) -> list[Any]:
        """Every row."""
        compiled = self._prepare(statement, params)
        if compiled is None:
            return list(self.connection.execute(statement, params or {}).all())
        cursor = self._driver().execute(compiled.sql, compiled.values(params))
        try:
            return [compiled.row(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def scalar(self, statement: Select[Any], params: Params | None = None) -> Any | None:
        """The first column of the first row, or None."""
        row = self.first(statement, params)
        return row[0] if row is not None else None

    def execute(self, statement: Update | Delete | Insert, params: Params | None = None) -> int:
        """Run a write; returns the number of rows it matched."""
        compiled = self._prepare(statement, params)
        if compiled is None:
            result = self.connection.execute(statement, params or {})
            return int(result.rowcount)
        cursor = self._driver().execute(compiled.sql, compiled.values(params))
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def insert(self, statement: Insert, params: Params) -> int:
        """Insert one row; returns its new integer primary key."""
        compiled = self._prepare(statement, params)
        if compiled is None:
            primary_key = self.connection.execute(statement, params).inserted_primary_key
            if primary_key is None:  # every dialect we support returns it; fail loudly if not
                raise RuntimeError("the database did not return the new row's id")
            return int(primary_key[0])
        cursor = self._driver().execute(compiled.sql, compiled.values(params))
        try:
            return int(cursor.lastrowid)
        finally:
            cursor.close()

    def _prepare(self, statement: Executable, params: Params | None) -> _Compiled | None:
        if self._before is not None:
            self._before()
        return self._compiled.get(statement, params) if self._compiled is not None else None

    def _driver(self) -> Any:
        # The DBAPI connection under the SQLAlchemy one: same transaction (SQLAlchemy has
        # already emitted its BEGIN on it), no SQLAlchemy layers per statement.
        if self._dbapi is None:
            self._dbapi = self.connection.connection.driver_connection
        return self._dbapi
