"""Throw-away PostgreSQL databases for tests: made on demand, all dropped at the end.

The server and a role that may `CREATE DATABASE` come from `SC_TEST_POSTGRES_URL`
(`.ci/postgres start DIR` prints one); each database is named `sc_test_<pid>_<random>` so parallel
or crashed runs never collide.
"""

from __future__ import annotations

import os
import secrets

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

POSTGRES_URL_ENV = "SC_TEST_POSTGRES_URL"
SKIP_REASON = (
    f"{POSTGRES_URL_ENV} is not set: the PostgreSQL tests run in CI (.ci/run); locally start a "
    f"server with `.ci/postgres start DIR` (as root) and export the URL it prints"
)


def postgres_url() -> str | None:
    """The server URL the PostgreSQL tests use, or None when they should be skipped."""
    return os.environ.get(POSTGRES_URL_ENV) or None


class ThrowAwayDatabases:
    """Creates fresh, empty databases on the server of `server_url`; `drop_all()` removes them."""

    def __init__(self, server_url: str) -> None:
        self.server_url: URL = make_url(server_url)
        if self.server_url.get_backend_name() != "postgresql":
            raise ValueError(f"{POSTGRES_URL_ENV} must be a postgresql URL, got {server_url!r}")
        self.created: list[str] = []

    def create(self) -> str:
        """A new empty database; returns its SQLAlchemy URL (with the password, for the hub)."""
        name = f"sc_test_{os.getpid()}_{secrets.token_hex(4)}"
        self._execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every database made here, even if a hub still holds connections to it."""
        while self.created:
            self._execute(f'DROP DATABASE IF EXISTS "{self.created.pop()}" WITH (FORCE)')

    def _execute(self, sql: str) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction block: autocommit, no pool.
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(sql)
        finally:
            engine.dispose()
