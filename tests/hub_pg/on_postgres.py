"""pytest plugin: run the hub's black-box suite (tests/hub) on PostgreSQL instead of SQLite.

    SC_TEST_POSTGRES_URL=postgresql+psycopg://... \\
        .venv/bin/python -m pytest -p tests.hub_pg.on_postgres tests/hub

Every hub the shared fixtures start (`tests.helpers.hub.test_settings`, which `hub_server` and
tests/hub's `start_hub` build on) gets a fresh database on that server; all are dropped at the
end. Hubs run as a CLI process on an SQLite file (claim race, kill-and-restart) still use SQLite.
tests/hub/test_audit.py opens the hub's SQLite file itself to tamper with it, so it errors under
this plugin; that says nothing about PostgreSQL (tests/hub_pg runs `verify-audit` on it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.helpers.hub as shared_fixtures
from hub.settings import HubSettings
from tests.hub_pg.databases import POSTGRES_URL_ENV, ThrowAwayDatabases, postgres_url

_DATABASES = pytest.StashKey[ThrowAwayDatabases]()


def pytest_configure(config: pytest.Config) -> None:
    """Point the shared hub settings at a fresh PostgreSQL database per hub."""
    url = postgres_url()
    if url is None:
        raise pytest.UsageError(f"-p tests.hub_pg.on_postgres needs {POSTGRES_URL_ENV}")
    databases = ThrowAwayDatabases(url)
    config.stash[_DATABASES] = databases
    sqlite_settings = shared_fixtures.test_settings

    def postgres_settings(tmp_path: Path, **overrides: object) -> HubSettings:
        if "db_url" not in overrides:
            overrides["db_url"] = databases.create()
        return sqlite_settings(tmp_path, **overrides)

    postgres_settings.__test__ = False  # type: ignore[attr-defined]
    shared_fixtures.test_settings = postgres_settings
    # tests/hub/conftest.py imported the function by name before this ran: patch its copy too.
    import tests.hub.conftest as hub_conftest

    hub_conftest.test_settings = postgres_settings


def pytest_unconfigure(config: pytest.Config) -> None:
    """Drop every database the run made."""
    databases = config.stash.get(_DATABASES, None)
    if databases is not None:
        databases.drop_all()
