"""Hub fixtures for every test suite: a real hub (uvicorn on loopback, fresh SQLite in tmp).

Import in your conftest.py:  `from tests.helpers.hub import hub_server  # noqa: F401`
and use `login(hub_server.url, "smith", "smith-demo")`, `device_token(hub_server, "1001CW")`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub import accounts
from hub.server import HubServer
from hub.settings import HubSettings
from protocol.schemas import API_PREFIX, Role

HTTP_TIMEOUT_SECONDS = 10.0
# Argon2 at its minimum cost: tests sign in often; the production default stays strong.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}


def test_settings(tmp_path: Path, **overrides: object) -> HubSettings:
    """Test hub settings: free port, fresh SQLite in `tmp_path`, demo data, short times."""
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "db_url": f"sqlite:///{tmp_path / 'hub-test.db'}",
        "demo": True,
        "lease_seconds": 3.0,
        "expire_after_seconds": 60.0,
        "heartbeat_seconds": 10.0,
        "reaper_interval_seconds": 0.2,
        **FAST_ARGON2,
    }
    values.update(overrides)
    return HubSettings(**values)  # type: ignore[arg-type]


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


@pytest.fixture
def hub_server(tmp_path: Path) -> Iterator[HubServer]:
    """A started hub with demo data, lease 3 s, expiry 60 s; stopped after the test."""
    server = HubServer(test_settings(tmp_path)).start()
    try:
        yield server
    finally:
        server.stop()


def login(url: str, username: str, password: str) -> str:
    """Sign in and return the operator token (raises on failure)."""
    response = httpx.post(
        f"{url}{API_PREFIX}/auth/login",
        json={"username": username, "password": password},
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def device_token(hub_server: HubServer | str, collar: str) -> str:
    """A device token for the demo officer `collar` (via the demo endpoint on loopback)."""
    url = hub_server if isinstance(hub_server, str) else hub_server.url
    response = httpx.post(
        f"{url}{API_PREFIX}/demo/device-token",
        json={"collar_number": collar},
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    response.raise_for_status()
    token: str = response.json()["device_token"]
    return token


def auth(token: str) -> dict[str, str]:
    """The Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}


def add_retired_sergeant(server: HubServer, username: str = "abbott") -> str:
    """A sergeant account that is now disabled (its calls stay in the history); returns its call
    sign, 'PS Abbott' by default."""
    service = server.app.state.hub.service
    display_name = username.capitalize()
    accounts.create_operator(
        service.db,
        service.passwords,
        username=username,
        password=f"{username}-old-password",
        display_name=display_name,
        rank="PS",
        role=Role.SERGEANT,
        actor="test",
    )
    accounts.deactivate_operator(service.db, username, actor="test")
    return f"PS {display_name}"
