"""Fixtures for the console media tests: a headless engine, feeds, a device peer, polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from PySide6.QtWidgets import QApplication

from console.adapters.media.card import CardStyle
from console.adapters.media.engine import AiortcMediaEngine
from console.models.video_feed import RemoteVideoFeed, SelfViewFeed
from console.services.media_port import MediaEvent
from tests.console.media.device_peer import DevicePeer

# A smaller card than the 720p default keeps the VP8 encoder cheap on the shared CI cores.
TEST_CARD = CardStyle(width=640, height=360)


async def wait_until(
    predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition"
) -> None:
    """Poll `predicate` (processing Qt events in between) until true or the deadline passes."""
    deadline = time.monotonic() + timeout
    while not predicate():
        QApplication.processEvents()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)
    QApplication.processEvents()


@pytest.fixture
def feeds(qapp: QApplication) -> tuple[RemoteVideoFeed, SelfViewFeed]:
    return RemoteVideoFeed(), SelfViewFeed()


@pytest.fixture
async def engine(
    feeds: tuple[RemoteVideoFeed, SelfViewFeed],
) -> AsyncIterator[AiortcMediaEngine]:
    remote, self_view = feeds
    media = AiortcMediaEngine(remote, self_view, use_devices=False, card_style=TEST_CARD)
    try:
        yield media
    finally:
        await media.shutdown()


@pytest.fixture
async def device() -> AsyncIterator[DevicePeer]:
    peer = DevicePeer()
    try:
        yield peer
    finally:
        await peer.close()


class EventLog:
    """Collects MediaEvents (a hand-written fake listener)."""

    def __init__(self) -> None:
        self.events: list[MediaEvent] = []

    def __call__(self, event: MediaEvent) -> None:
        self.events.append(event)

    def states(self) -> list[str]:
        return [str(e.state) for e in self.events]
