"""The engine under the app's real GUI loop (qasync): answer, events and rendering all work."""

from __future__ import annotations

import asyncio

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from console.adapters.media.engine import AiortcMediaEngine
from console.models.video_feed import RemoteVideoFeed, SelfViewFeed
from console.services.media_port import MediaState
from tests.console.media.conftest import TEST_CARD, EventLog, wait_until
from tests.console.media.device_peer import DevicePeer

pytestmark = pytest.mark.slow


def test_a_call_under_qasync(qapp: QApplication) -> None:
    remote = RemoteVideoFeed()

    async def scenario() -> list[str]:
        engine = AiortcMediaEngine(remote, SelfViewFeed(), use_devices=False, card_style=TEST_CARD)
        device = DevicePeer()
        try:
            log = EventLog()
            call = engine.new_call(log)
            await device.accept(await call.answer(await device.offer(), []))
            await wait_until(lambda: remote.rendered_count >= 3, what="frames rendered")
            await call.close()
            await wait_until(lambda: MediaState.CLOSED in log.states(), what="CLOSED")
            return log.states()
        finally:
            await device.close()
            await engine.shutdown()

    loop = qasync.QEventLoop(qapp)
    try:
        states = loop.run_until_complete(scenario())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert states[-1] == MediaState.CLOSED
    assert MediaState.CONNECTED in states
