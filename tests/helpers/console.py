"""Build the sergeant's call flow against a REAL hub, for e2e and browser tests.

`console_against(hub_url)` signs in (default PS Smith), follows `/events` with the console's own
event-stream adapter, and builds the real call stack exactly as app.py does: HubHttp over one
httpx client → HubCallApi → CallService (with the SQLite decision journal in the data dir and
the real aiortc media engine, no local devices) → CallViewModel → LiveCallPanel hosting the real
VideoPane. Widgets render offscreen (tests/conftest.py sets QT_QPA_PLATFORM).

Run the test's coroutine on a qasync loop (`run_on_qasync(coro)` here, or the loop-factory hook in
tests/console/call/conftest.py) so Qt signals and asyncio interleave as in the application.

Typical use::

    async with console_against(hub.url) as console:
        created = await console.wait_for_event("request.created")
        await console.vm.answer(created.request.id)
        await console.wait_until(lambda: console.remote_feed.rendered_count > 5, "video")
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import qasync
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from console.adapters.call_api import HubCallApi
from console.adapters.event_stream import HubEventStream
from console.adapters.hub_http import HubHttp
from console.adapters.journal import SqliteDecisionJournal
from console.adapters.media.engine import AiortcMediaEngine
from console.domain.connection import LinkStatus
from console.models.call_vm import CallViewModel
from console.models.video_feed import RemoteVideoFeed, SelfViewFeed
from console.services.call import CallService
from console.services.decision import DEFAULT_BACKOFF_SECONDS
from console.services.lease import SystemClock
from console.widgets.live_call_panel import LiveCallPanel
from console.widgets.video_pane import VideoPane
from field.device import CallResult, FieldDevice
from protocol import ConsoleEvent

DEFAULT_WAIT_S = 60.0
# Generous: waits return as soon as media connects; the product default is 20 s.
MEDIA_CONNECT_TIMEOUT_S = 60.0


def run_on_qasync[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion on a fresh qasync loop (Qt + asyncio as one loop)."""
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class DeviceRun:
    """The officer's phone: its own thread + loop, so it never shares the console's loop.

    Not tied to the console's loop either, so a test can close one console and open another
    while the device keeps running.
    """

    def __init__(self, device: FieldDevice, **kwargs: object) -> None:
        self.result: concurrent.futures.Future[CallResult] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(device, kwargs), name="field-device", daemon=True
        )
        self._thread.start()

    def _run(self, device: FieldDevice, kwargs: dict[str, object]) -> None:
        try:
            self.result.set_result(asyncio.run(device.call(**kwargs)))
        except BaseException as exc:
            self.result.set_exception(exc)

    async def wait(self, timeout: float = 60.0) -> CallResult:
        return await asyncio.wait_for(asyncio.wrap_future(self.result), timeout)

    def join(self, timeout: float = 90.0) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the field device did not finish"


def start_device(device: FieldDevice, **kwargs: object) -> DeviceRun:
    """Start `device.call(**kwargs)` on its own thread; await `.wait()` for the result."""
    return DeviceRun(device, **kwargs)


# ---------------------------------------------------------------------------- pixels


def samples(image: QImage, step: int = 16) -> list[tuple[int, int, int]]:
    """RGB samples on a grid over `image` (a grabbed widget)."""
    return [
        image.pixelColor(x, y).getRgb()[:3]
        for x in range(4, image.width() - 4, step)
        for y in range(4, image.height() - 4, step)
    ]


def mean_luma(pixels: list[tuple[int, int, int]]) -> float:
    return sum(0.299 * r + 0.587 * g + 0.114 * b for r, g, b in pixels) / len(pixels)


def share_changed(a: list[tuple[int, int, int]], b: list[tuple[int, int, int]]) -> float:
    """The share of samples that changed noticeably between two grabs of the same widget."""
    changed = sum(
        1
        for p, q in zip(a, b, strict=True)
        if sum(abs(x - y) for x, y in zip(p, q, strict=True)) > 24
    )
    return changed / len(a)


async def poll_until(
    predicate: Callable[[], object], what: str, timeout: float = DEFAULT_WAIT_S
) -> None:
    """Poll `predicate` (Qt and asyncio keep running) until truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        # Polling with a deadline: widget state and frame counts have no awaitable of their own.
        await asyncio.sleep(0.02)


class _EventRecorder:
    """EventHandler for HubEventStream: forwards to the call VM and remembers every event."""

    def __init__(self, vm: CallViewModel) -> None:
        self.vm = vm
        self.events: list[ConsoleEvent] = []
        self.connected = asyncio.Event()
        self.arrived = asyncio.Event()

    async def stream_connected(self, resumed: bool) -> None:
        self.connected.set()

    def event_received(self, event: ConsoleEvent) -> None:
        self.events.append(event)
        self.arrived.set()
        self.vm.handle_hub_event(event)

    def status_changed(self, status: LinkStatus) -> None:
        return None


@dataclass
class ConsoleUnderTest:
    """The live call stack of one signed-in console, plus waiting helpers."""

    hub_http: HubHttp
    call_api: HubCallApi
    engine: AiortcMediaEngine
    journal: SqliteDecisionJournal
    service: CallService
    vm: CallViewModel
    remote_feed: RemoteVideoFeed
    self_feed: SelfViewFeed
    pane: VideoPane
    panel: LiveCallPanel
    recorder: _EventRecorder
    messages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def events(self) -> list[ConsoleEvent]:
        return self.recorder.events

    async def wait_for_event(
        self, kind: str, request_id: int | None = None, timeout: float = DEFAULT_WAIT_S
    ) -> ConsoleEvent:
        """The first event (seen so far or arriving) of type `kind` (for `request_id`)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.recorder.events:
                if event.type == kind and request_id in (None, event.request.id):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(e.type, e.request.id) for e in self.recorder.events]
                raise AssertionError(
                    f"no {kind} event for {request_id} within {timeout}s; seen {seen}"
                )
            self.recorder.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.recorder.arrived.wait(), remaining)

    async def wait_until(
        self, predicate: Callable[[], bool], what: str, timeout: float = DEFAULT_WAIT_S
    ) -> None:
        """Poll `predicate` (Qt and asyncio keep running) until true or fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; messages: {self.messages}"
                )
            # Polling with a deadline: frames and phases have no awaitable of their own here.
            await asyncio.sleep(0.02)


async def sign_in(hub_http: HubHttp, username: str, password: str) -> None:
    result = await hub_http.json(
        "POST", "/auth/login", json={"username": username, "password": password}
    )
    hub_http.set_token(result["token"])


@contextlib.asynccontextmanager
async def console_against(
    hub_url: str,
    *,
    username: str = "smith",
    password: str = "smith-demo",
    data_dir: Path | None = None,
    backoff_seconds: tuple[float, ...] = DEFAULT_BACKOFF_SECONDS,
    size: tuple[int, int] = (1366, 768),
) -> AsyncIterator[ConsoleUnderTest]:
    """A signed-in console's call stack against `hub_url`; everything is closed on exit."""
    data_dir = data_dir or Path(os.environ["SC_DATA_DIR"])
    client = httpx.AsyncClient(base_url=hub_url, timeout=10.0)
    hub_http = HubHttp(client)
    remote_feed, self_feed = RemoteVideoFeed(), SelfViewFeed()
    engine = AiortcMediaEngine(remote_feed, self_feed, use_devices=False)
    journal = SqliteDecisionJournal.in_data_dir(data_dir)
    stream_task: asyncio.Task[None] | None = None
    vm: CallViewModel | None = None
    panel: LiveCallPanel | None = None
    try:
        await sign_in(hub_http, username, password)
        call_api = HubCallApi(hub_http)
        service = CallService(
            call_api,
            engine,
            journal,
            SystemClock(),
            decision_backoff_seconds=backoff_seconds,
            # The product gives up after 20 s (the sergeant is then told what to do); on a
            # loaded 2-core CI box with Chromium and two aiortc stacks, ICE can take longer.
            connect_timeout=MEDIA_CONNECT_TIMEOUT_S,
        )
        vm = CallViewModel(service)
        pane = VideoPane(remote_feed, self_feed)
        panel = LiveCallPanel(vm, pane, remote_feed)
        panel.resize(*size)
        panel.show()
        recorder = _EventRecorder(vm)
        stream = HubEventStream(hub_http, heartbeat_seconds=10.0)
        stream_task = asyncio.get_running_loop().create_task(stream.run(recorder))
        await asyncio.wait_for(recorder.connected.wait(), DEFAULT_WAIT_S)
        console = ConsoleUnderTest(
            hub_http,
            call_api,
            engine,
            journal,
            service,
            vm,
            remote_feed,
            self_feed,
            pane,
            panel,
            recorder,
        )
        vm.message_posted.connect(lambda level, text: console.messages.append((level, text)))
        yield console
    finally:
        if stream_task is not None:
            stream_task.cancel()
            await asyncio.gather(stream_task, return_exceptions=True)
        if vm is not None:
            await vm.close()
        await engine.shutdown()
        journal.close()
        await client.aclose()
        if panel is not None:
            # hide(), not close(): closing the last window quits the app and stops the loop.
            panel.hide()
            panel.deleteLater()
