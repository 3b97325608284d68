"""Real loopback calls: an aiortc device peer offers, the engine answers on its media thread."""

from __future__ import annotations

import gc
import io
import time
import weakref
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from console.adapters.media.call import AiortcCallMedia, InvalidOfferError
from console.adapters.media.card import ACCENT_RGB, BACKGROUND_RGB
from console.adapters.media.engine import AiortcMediaEngine
from console.models.video_feed import RemoteVideoFeed, SelfViewFeed
from console.services.media_port import MediaState, QualityBadge
from console.widgets.video_pane import VideoPane
from tests.console.media.conftest import TEST_CARD, EventLog, wait_until
from tests.console.media.device_peer import DevicePeer

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"


async def connect(
    engine: AiortcMediaEngine, device: DevicePeer
) -> tuple[AiortcCallMedia, EventLog]:
    log = EventLog()
    call = engine.new_call(log)
    answer = await call.answer(await device.offer(), [])
    await device.accept(answer)
    await wait_until(lambda: MediaState.CONNECTED in log.states(), what="CONNECTED event")
    return call, log


def pixels(image: QImage) -> np.ndarray:
    """An (h, w, 3) uint8 copy of a QImage."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    stride = rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), dtype=np.uint8).reshape(rgb.height(), stride)
    return data[:, : rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3).copy()


async def test_officer_video_reaches_the_pane_and_device_gets_the_card(
    qtbot, engine: AiortcMediaEngine, feeds: tuple[RemoteVideoFeed, SelfViewFeed], device
) -> None:
    remote, self_view = feeds
    pane = VideoPane(remote, self_view)
    qtbot.addWidget(pane)
    pane.resize(960, 600)
    pane.show()

    await connect(engine, device)
    await wait_until(lambda: remote.rendered_count >= 2, what="first remote frames rendered")
    first = pixels(pane.live_video.grab().toImage())
    rendered = remote.rendered_count
    await wait_until(lambda: remote.rendered_count >= rendered + 3, what="more frames rendered")
    second = pixels(pane.live_video.grab().toImage())

    assert first.mean() > 40, "the live video area is (nearly) black"
    assert np.abs(first.astype(int) - second.astype(int)).mean() > 5, "the video does not move"

    await wait_until(lambda: device.received_video.count >= 3, what="card frames at the device")
    card = device.received_video.get()
    assert (card.width, card.height) == (640, 360)
    rgb = card.to_ndarray(format="rgb24").astype(int)
    band = rgb[2, 300:340].mean(axis=0)  # the amber band along the top edge
    background = rgb[120:140, 20:60].reshape(-1, 3).mean(axis=0)
    assert np.abs(band - ACCENT_RGB).max() < 45, f"no amber band: {band}"
    assert np.abs(background - BACKGROUND_RGB).max() < 30, f"not the dark card: {background}"
    # The sergeant sees the card he is sending in his self-view.
    await wait_until(lambda: pane.self_view.has_frame(), what="self-view card")
    ARTIFACTS.mkdir(exist_ok=True)  # for people to look at; never compared against a golden
    pane.grab().save(str(ARTIFACTS / "media_video_pane_live.png"))
    Image.fromarray(card.to_ndarray(format="rgb24")).save(ARTIFACTS / "media_card_at_device.png")


async def test_gui_stall_does_not_stop_media_thread(
    qtbot, engine: AiortcMediaEngine, feeds: tuple[RemoteVideoFeed, SelfViewFeed]
) -> None:
    remote, _ = feeds
    # 30 fps so a 300 ms window holds ~9 frames: robust against decoder burstiness on busy CI.
    device = DevicePeer(fps=30)
    try:
        call, _ = await connect(engine, device)
        await wait_until(lambda: call.remote_frame_count >= 10, what="steady remote frames")

        received_before = call.remote_frame_count
        rendered_before = remote.rendered_count
        # A CPU-bound GUI stall (the stimulus): at least 300 ms, and on a loaded machine long
        # enough for the media thread to get its turn at the CPU (but never more than 10 s).
        stalled_at = time.monotonic()
        while True:
            stalled_for = time.monotonic() - stalled_at
            if stalled_for >= 10.0 or (
                stalled_for >= 0.3 and call.remote_frame_count > received_before
            ):
                break
        received_during = call.remote_frame_count - received_before

        assert received_during > 0, "the media thread stopped receiving during a GUI stall"
        assert remote.rendered_count == rendered_before, "rendered on a blocked GUI thread"
        await wait_until(lambda: remote.rendered_count > rendered_before, what="render after")
    finally:
        await device.close()


async def test_quality_and_snapshot(engine: AiortcMediaEngine, device) -> None:
    call, _ = await connect(engine, device)
    assert call.snapshot_jpeg() is None or call.remote_frame_count > 0

    await wait_until(
        lambda: call.quality().fps > 0 and call.quality().width > 0,
        timeout=60,
        what="quality figures",
    )
    quality = call.quality()
    assert (quality.width, quality.height) == (640, 360)
    assert quality.bitrate_kbps > 0
    assert quality.badge is not QualityBadge.UNKNOWN

    jpeg = call.snapshot_jpeg()
    assert jpeg is not None
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.format == "JPEG"
        assert image.size == (640, 360)


async def test_close_twice_is_safe_and_tells_the_peer(engine: AiortcMediaEngine, device) -> None:
    call, log = await connect(engine, device)

    await call.close()
    await call.close()

    await wait_until(
        lambda: device.connection_state in ("closed", "failed"),
        timeout=60,
        what="the device to notice the hang-up",
    )
    await wait_until(lambda: MediaState.CLOSED in log.states(), what="CLOSED event")
    assert log.states().count(MediaState.CLOSED) == 1


async def test_bad_offer_is_a_clear_error(engine: AiortcMediaEngine) -> None:
    log = EventLog()
    call = engine.new_call(log)
    with pytest.raises(InvalidOfferError, match="not SDP"):
        await call.answer("this is not SDP", [])
    await call.close()
    await wait_until(lambda: bool(log.events), what="CLOSED event")
    assert log.states() == [MediaState.CLOSED]


async def test_a_closed_call_is_freed(engine: AiortcMediaEngine, device) -> None:
    """Per-call memory must not accumulate over a shift of calls: nothing keeps a call alive."""

    async def call_and_hang_up() -> tuple[weakref.ref, weakref.ref]:
        call, _ = await connect(engine, device)
        await wait_until(lambda: call.remote_frame_count >= 2, what="remote frames")
        refs = weakref.ref(call), weakref.ref(call._pc)
        await call.close()
        return refs

    call_ref, pc_ref = await call_and_hang_up()

    def freed() -> bool:
        gc.collect()
        return call_ref() is None and pc_ref() is None

    await wait_until(freed, what="the closed call and its peer connection to be freed")


async def test_camera_off_sends_the_camera_off_card(engine: AiortcMediaEngine, device) -> None:
    call, _ = await connect(engine, device)
    await wait_until(lambda: device.received_video.count >= 2, what="card frames")
    no_camera = engine.video_source.current_frame().to_ndarray(format="rgb24").astype(int)
    camera_off = engine.video_source.camera_off_frame().to_ndarray(format="rgb24").astype(int)
    title = (slice(100, 160), slice(40, 600))  # the title line differs between the two cards

    def closer_to_camera_off() -> bool:
        got = device.received_video.get().to_ndarray(format="rgb24").astype(int)
        to_off = np.abs(got[title] - camera_off[title]).mean()
        to_no_camera = np.abs(got[title] - no_camera[title]).mean()
        return to_off < to_no_camera

    assert not closer_to_camera_off()
    call.set_camera_enabled(False)
    await wait_until(closer_to_camera_off, what="the CAMERA OFF card at the device")


async def test_device_hanging_up_is_reported_as_failed(engine: AiortcMediaEngine) -> None:
    device = DevicePeer()
    try:
        call, log = await connect(engine, device)
        await wait_until(lambda: call.remote_frame_count >= 2, what="remote frames")
        await device.close()
        await wait_until(lambda: MediaState.FAILED in log.states(), what="FAILED event")
        assert "closed the connection" in log.events[-1].detail
    finally:
        await device.close()


async def test_answer_twice_is_refused(engine: AiortcMediaEngine, device) -> None:
    call, _ = await connect(engine, device)
    with pytest.raises(RuntimeError, match="already"):
        await call.answer("v=0\r\n", [])
    await call.close()


async def test_shutdown_hangs_up_calls_left_open(feeds, device) -> None:
    remote, self_view = feeds
    media = AiortcMediaEngine(remote, self_view, use_devices=False, card_style=TEST_CARD)
    _call, log = await connect(media, device)
    await media.shutdown()
    await wait_until(lambda: MediaState.CLOSED in log.states(), what="CLOSED event")
    await wait_until(
        lambda: device.connection_state in ("closed", "failed"),
        timeout=60,
        what="the device to notice the shutdown",
    )
    with pytest.raises(RuntimeError, match="shut down"):
        media.new_call(log)
