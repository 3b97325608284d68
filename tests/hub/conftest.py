"""Fixtures for the hub's black-box tests: a real hub on loopback and a client aimed at it.

Most modules share one module-scoped hub (starting a hub seeds ~30 demo portraits) and keep their
tests independent by giving each test its own demo officers (`officers` fixture) and reading only
the requests and events it created.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.server import HubServer
from tests.helpers.hub import test_settings
from tests.hub.client import HubApi

# The named demo officers (docs: shared facts); any of them can place a request.
HAPPY = "1001CW"
NAMED_OFFICERS = ["1001CW", "1002CW", "1003CW", "1004CW", "1005CW"]


def start_hub(folder: Path, **overrides: Any) -> HubServer:
    """A started in-process hub on a free port with a fresh SQLite file and the demo data.

    The hub engineer's `test_settings` (lease 3 s, expiry 60 s, cheap Argon2) plus a 1 s
    heartbeat and a quick reaper, so time-driven tests wait on events that come soon.
    """
    values: dict[str, Any] = {"heartbeat_seconds": 1.0, "reaper_interval_seconds": 0.1}
    values.update(overrides)
    return HubServer(test_settings(folder, **values)).start()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    """One hub for a whole test module (lease 3 s, expiry 60 s, heartbeat 1 s)."""
    server = start_hub(tmp_path_factory.mktemp("hub"))
    yield server
    server.stop()


@pytest.fixture
async def api(hub: HubServer) -> AsyncIterator[HubApi]:
    """A fresh HTTP client for the module's hub."""
    async with HubApi(hub.url) as client:
        yield client


class OfficerPool:
    """Hands out demo officers' collar numbers in rotation.

    Tests that share a hub end their requests at teardown (`World`), so a device is free again
    by the time the rotation comes back to it (one active request per device).
    """

    def __init__(self, collars: list[str]) -> None:
        assert len(collars) >= 10, f"expected ~30 demo officers, found {collars}"
        self.collars = collars
        self._cycle = itertools.cycle(collars)

    def take(self) -> str:
        return next(self._cycle)


@pytest.fixture(scope="module")
def officer_pool(hub: HubServer) -> OfficerPool:
    """Collars of every demo officer, discovered over HTTP (device token + /device/me)."""
    return OfficerPool(discover_collars(hub.url))


@pytest.fixture
def officers(officer_pool: OfficerPool) -> OfficerPool:
    """The module's officer pool (each `take()` is a device no other test uses)."""
    return officer_pool


def discover_collars(url: str) -> list[str]:
    """Every demo officer's collar, read over HTTP: `GET /officers/{id}` for id 1, 2, ... until 404.

    The officers with a problem on record (1002CW..1005CW) are left out: a test that wants one asks
    for it by collar, so the generic pool is the happy officer and the "mostly valid" rest.
    """
    with httpx.Client(base_url=url + "/api/v1", timeout=10) as client:
        login = client.post("/auth/login", json={"username": "admin", "password": "admin-demo"})
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        collars: list[str] = []
        for officer_id in itertools.count(1):
            resp = client.get(f"/officers/{officer_id}", headers=auth)
            if resp.status_code == 404:
                break
            assert resp.status_code == 200, resp.text
            collars.append(resp.json()["collar_number"])
    return [c for c in collars if c == HAPPY or c not in NAMED_OFFICERS]


class World:
    """What one test needs on a shared hub: signed-in operators, devices, and a clean exit.

    Every request made through `new_request` is driven to a terminal state at teardown so the
    device is free for the next test.
    """

    def __init__(self, api: HubApi, officers: OfficerPool) -> None:
        self.api = api
        self.officers = officers
        self.tokens: dict[str, str] = {}
        self.created: list[tuple[int, str]] = []  # (request id, device token)

    async def op(self, username: str) -> str:
        """A (cached) token of a demo operator."""
        if username not in self.tokens:
            self.tokens[username] = await self.api.login(username)
        return self.tokens[username]

    async def device(self, collar: str | None = None) -> str:
        """A device token for the given (or the next free) demo officer."""
        return await self.api.device_token(collar or self.officers.take())

    async def new_request(self, collar: str | None = None) -> tuple[int, str]:
        """A queued request from a fresh device; returns (request id, device token)."""
        dev = await self.device(collar)
        view = await self.api.create_request(dev)
        self.created.append((view["id"], dev))
        return view["id"], dev

    async def cleanup(self) -> None:
        """Drive this test's requests to a terminal state, using whoever holds each."""
        admin = await self.op("admin")
        holders = {}
        for name in ("smith", "jones", "patel"):
            if name in self.tokens:
                me = (await self.api.call("GET", "/auth/me", self.tokens[name])).json()
                holders[me.get("id")] = self.tokens[name]
        for rid, dev in self.created:
            resp = await self.api.call("GET", f"/requests/{rid}", admin)
            if resp.status_code != 200:
                continue
            req = resp.json()["request"]
            holder = holders.get(req.get("holder_id"))
            if req["state"] in ("claimed", "connected") and holder:
                await self.api.fail(holder, rid, "test teardown")
            elif req["state"] == "decided" and holder:
                await self.api.end(holder, rid)
            else:
                await self.api.hangup(dev, rid)


@pytest.fixture
async def world(api: HubApi, officers: OfficerPool) -> AsyncIterator[World]:
    """Operators, devices and automatic clean-up for one test on the module's hub."""
    w = World(api, officers)
    yield w
    await w.cleanup()
