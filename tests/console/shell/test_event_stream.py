"""The event stream against a real hub through a proxy that can cut or freeze the connection.

Proves: reconnect with backoff, resume with Last-Event-ID (nothing missed, nothing twice),
the heartbeat watchdog, and that a dead token ends the stream as a sign-in problem.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import httpx
import pytest

from console.adapters.event_stream import HubEventStream
from console.adapters.hub_http import HubHttp
from console.adapters.session_api import SessionApi
from console.domain.backoff import Backoff
from console.domain.connection import LinkState
from console.domain.errors import AuthenticationError
from hub.server import HubServer
from tests.console.shell.helpers import wait_until
from tests.console.shell.hubops import HubOps
from tests.console.shell.proxy import TcpProxy
from tests.helpers.hub import test_settings


class RecordingHandler:
    def __init__(self) -> None:
        self.events = []
        self.statuses = []
        self.connects: list[bool] = []

    async def stream_connected(self, resumed: bool) -> None:
        self.connects.append(resumed)

    def event_received(self, event) -> None:
        self.events.append(event)

    def status_changed(self, status) -> None:
        self.statuses.append(status)

    @property
    def ids(self) -> list[int]:
        return [e.id for e in self.events]

    @property
    def state(self):
        return self.statuses[-1].state if self.statuses else None


async def signed_in_http(url: str) -> HubHttp:
    http = HubHttp(httpx.AsyncClient(base_url=url))
    await SessionApi(http).login("smith", "smith-demo")
    return http


@contextlib.asynccontextmanager
async def following(http: HubHttp, heartbeat: float = 10.0):
    stream = HubEventStream(
        http, heartbeat_seconds=heartbeat, backoff=Backoff(initial=0.05, maximum=0.3, jitter=0.1)
    )
    handler = RecordingHandler()
    task = asyncio.get_running_loop().create_task(stream.run(handler))
    try:
        await wait_until(lambda: handler.state == LinkState.CONNECTED, what="stream connected")
        yield stream, handler
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await http.client.aclose()


async def test_cut_mid_stream_resumes_without_gap_or_duplicate(hub_server):
    proxy = await TcpProxy("127.0.0.1", hub_server.port).start()
    ops = HubOps(hub_server.url)
    try:
        async with (
            following(await signed_in_http(hub_server.url)) as (_, reference),
            following(await signed_in_http(proxy.url)) as (stream, handler),
        ):
            first = [await ops.call_in("1001CW"), await ops.call_in("1002CW")]
            await wait_until(lambda: len(handler.events) >= 2, what="first events")

            proxy.reject_new = True  # the hub is unreachable for a while...
            proxy.cut()  # ...and the live stream dies mid-way
            await wait_until(
                lambda: handler.state in (LinkState.RECONNECTING, LinkState.OFFLINE),
                what="drop noticed",
            )
            # Events that happen while we are away must still arrive, once each.
            second = [await ops.call_in("1003CW"), await ops.call_in("1004CW")]
            await ops.hang_up("1001CW", first[0])
            await wait_until(lambda: len(reference.events) >= 5, what="reference events")
            proxy.reject_new = False

            await wait_until(lambda: handler.ids == reference.ids, what="stream caught up")
            assert len(set(handler.ids)) == len(handler.ids)
            assert handler.ids == sorted(handler.ids)
            created = [e.request.id for e in handler.events if e.type == "request.created"]
            assert created == first + second
            assert handler.connects[0] is False
            assert handler.connects[-1] is True
            assert stream.connections >= 2
            retry = next(s for s in handler.statuses if s.retry_in is not None)
            assert 0 < retry.retry_in <= 0.3 * 1.1
    finally:
        await ops.aclose()
        await proxy.close()


async def test_silent_stream_trips_the_heartbeat_watchdog(tmp_path):
    server = HubServer(test_settings(tmp_path, heartbeat_seconds=0.2)).start()
    proxy = await TcpProxy("127.0.0.1", server.port).start()
    ops = HubOps(server.url)
    try:
        async with following(await signed_in_http(proxy.url), heartbeat=0.2) as (stream, handler):
            first = await ops.call_in("1002CW")  # a position to resume from
            await wait_until(lambda: handler.events, what="first event")
            assert handler.events[0].request.id == first
            proxy.freeze()  # connection stays open, but not a byte gets through
            await wait_until(
                lambda: any(s.detail == "no heartbeat from the hub" for s in handler.statuses),
                timeout=30,
                what="watchdog",
            )
            request_id = await ops.call_in("1001CW")
            proxy.thaw()
            await wait_until(
                lambda: request_id in [e.request.id for e in handler.events],
                what="event after the watchdog reconnect",
            )
            assert len(set(handler.ids)) == len(handler.ids)
            assert stream.connections >= 2
    finally:
        await ops.aclose()
        await proxy.close()
        server.stop()


async def test_dead_token_ends_the_stream_as_a_sign_in_problem(hub_server):
    http = HubHttp(httpx.AsyncClient(base_url=hub_server.url))
    http.set_token("op_not-a-real-token")
    stream = HubEventStream(http, backoff=Backoff(initial=0.05, maximum=0.1))
    handler = RecordingHandler()
    try:
        with pytest.raises(AuthenticationError):
            async with asyncio.timeout(10):
                await stream.run(handler)
    finally:
        await http.client.aclose()
    assert handler.state == LinkState.OFFLINE
    assert handler.events == []


async def test_unreachable_hub_counts_down_then_says_offline():
    http = HubHttp(httpx.AsyncClient(base_url="http://127.0.0.1:9"))  # discard port: refused
    stream = HubEventStream(http, backoff=Backoff(initial=0.02, maximum=0.05))
    handler = RecordingHandler()
    task = asyncio.get_running_loop().create_task(stream.run(handler))
    try:
        await wait_until(lambda: handler.state == LinkState.OFFLINE, what="offline")
        states = [s.state for s in handler.statuses if s.retry_in is not None]
        assert states[:3] == [LinkState.RECONNECTING, LinkState.RECONNECTING, LinkState.OFFLINE]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await http.client.aclose()


def _backup(database: Path, copy: Path) -> None:
    """A consistent copy of a live SQLite database (the sqlite3 backup API)."""
    source, target = sqlite3.connect(database), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


async def test_a_hub_restored_from_a_backup_is_followed_from_now(tmp_path):
    """The hub's database is restored from a backup taken after we signed in: its event ids
    restart below our position. Resuming from it would drop every new event as already seen;
    the hub refuses the cursor (409 cursor_ahead) and the stream starts afresh."""
    (tmp_path / "live").mkdir()
    (tmp_path / "restored").mkdir()
    live = HubServer(test_settings(tmp_path / "live")).start()
    proxy = await TcpProxy("127.0.0.1", live.port).start()
    live_ops = HubOps(live.url)
    restored: HubServer | None = None
    restored_ops: HubOps | None = None
    try:
        http = await signed_in_http(proxy.url)
        backup = tmp_path / "backup.db"
        _backup(tmp_path / "live" / "hub-test.db", backup)  # our session is in it
        async with following(http) as (stream, handler):
            for collar in ("1001CW", "1002CW", "1003CW"):
                await live_ops.call_in(collar)
            await wait_until(lambda: len(handler.events) >= 3, what="events from the live hub")
            position = stream.last_event_id
            assert position is not None

            restored = HubServer(
                test_settings(tmp_path / "restored", db_url=f"sqlite:///{backup}")
            ).start()
            restored_ops = HubOps(restored.url)
            seen = len(handler.events)
            proxy.retarget("127.0.0.1", restored.port)
            proxy.cut()
            await wait_until(lambda: len(handler.connects) >= 2, what="reconnected")
            request_id = await restored_ops.call_in("1004CW")
            await wait_until(
                lambda: any(
                    e.type == "request.created" and e.request.id == request_id
                    for e in handler.events[seen:]
                ),
                what="the restored hub's event",
            )
            fresh = next(e for e in handler.events[seen:] if e.request.id == request_id)
            assert fresh.id <= position  # would have been dropped as a duplicate
            assert handler.connects[-1] is False  # a fresh connect: the owner reloads the queue
            assert stream.last_event_id == fresh.id
    finally:
        await live_ops.aclose()
        if restored_ops is not None:
            await restored_ops.aclose()
        await proxy.close()
        if restored is not None:
            restored.stop()
        live.stop()
