"""Fixtures for the hub on PostgreSQL: one fresh database and one real hub per test session.

Everything is skipped with a clear reason when `SC_TEST_POSTGRES_URL` is unset (local dev);
CI (.ci/run) starts a throw-away server and sets it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from hub.server import HubServer
from tests.helpers.hub import test_settings
from tests.hub.client import HubApi
from tests.hub.conftest import OfficerPool, World, discover_collars
from tests.hub_pg.databases import SKIP_REASON, ThrowAwayDatabases, postgres_url

# Small on purpose: an SSE cursor older than the in-memory ring is replayed from the database,
# so resuming a stream exercises PostgreSQL rather than memory.
EVENT_RING_SIZE = 16


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[ThrowAwayDatabases]:
    """Throw-away databases on the server of SC_TEST_POSTGRES_URL, dropped after the session."""
    url = postgres_url()
    if url is None:
        pytest.skip(SKIP_REASON)
    databases = ThrowAwayDatabases(url)
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(scope="session")
def pg_url(pg_databases: ThrowAwayDatabases) -> str:
    """URL of this session's fresh, empty database (the hub migrates it on start)."""
    return pg_databases.create()


@pytest.fixture(scope="session")
def pg_hub(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    """A real hub (uvicorn on loopback) on PostgreSQL with the demo data; lease 60 s."""
    settings = test_settings(
        tmp_path_factory.mktemp("hub-pg"),
        db_url=pg_url,
        lease_seconds=60.0,
        heartbeat_seconds=1.0,
        reaper_interval_seconds=0.1,
        event_ring_size=EVENT_RING_SIZE,
    )
    server = HubServer(settings).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def officers(pg_hub: HubServer) -> OfficerPool:
    """The demo officers without a problem on record, handed out in rotation."""
    return OfficerPool(discover_collars(pg_hub.url))


@pytest.fixture
async def api(pg_hub: HubServer) -> AsyncIterator[HubApi]:
    """A fresh HTTP client for the PostgreSQL hub."""
    async with HubApi(pg_hub.url) as client:
        yield client


@pytest.fixture
async def world(api: HubApi, officers: OfficerPool) -> AsyncIterator[World]:
    """Operators, devices and clean-up at the end of the test (as in tests/hub)."""
    w = World(api, officers)
    yield w
    await w.cleanup()
