"""VideoFeed's render ring: QVideoFrames are reused, never the one shown or the one before it."""

from __future__ import annotations

import av
import numpy as np
from PySide6.QtMultimedia import QVideoFrame

from console.models.video_feed import RENDER_RING_SIZE, RemoteVideoFeed


def flat_frame(luma: int, width: int = 320, height: int = 180) -> av.VideoFrame:
    planes = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
    planes[:height] = luma
    return av.VideoFrame.from_ndarray(planes, format="yuv420p")


def luma_of(frame: QVideoFrame) -> int:
    copy = QVideoFrame(frame)
    assert copy.map(QVideoFrame.MapMode.ReadOnly)
    try:
        return int(np.frombuffer(copy.bits(0), dtype=np.uint8)[0])
    finally:
        copy.unmap()


def render(qtbot, feed: RemoteVideoFeed, frame: av.VideoFrame) -> QVideoFrame:
    with qtbot.waitSignal(feed.frame_rendered, timeout=30000):
        feed.offer_frame(frame)
    return feed.video_sink.videoFrame()


def test_render_targets_cycle_through_the_ring(qtbot) -> None:
    feed = RemoteVideoFeed()
    shown = [render(qtbot, feed, flat_frame(20 + 10 * index)) for index in range(7)]

    for index in range(len(shown) - RENDER_RING_SIZE):
        assert shown[index] == shown[index + RENDER_RING_SIZE]  # same buffer: reused
        assert shown[index] != shown[index + 1]
    assert luma_of(feed.video_sink.videoFrame()) == 80


def test_the_previous_frame_keeps_its_picture(qtbot) -> None:
    feed = RemoteVideoFeed()
    previous = None
    for luma in range(30, 130, 10):
        current = render(qtbot, feed, flat_frame(luma))
        assert luma_of(current) == luma
        if previous is not None:
            assert luma_of(previous) == luma - 10  # a late reader of the last frame is safe
        previous = current


def test_a_new_size_and_a_cleared_feed_render_correctly(qtbot) -> None:
    feed = RemoteVideoFeed()
    for luma in (40, 50, 60, 70):
        render(qtbot, feed, flat_frame(luma))

    bigger = render(qtbot, feed, flat_frame(90, 640, 360))
    assert (bigger.width(), bigger.height()) == (640, 360)
    assert luma_of(bigger) == 90

    feed.clear()
    assert not feed.video_sink.videoFrame().isValid()
    again = render(qtbot, feed, flat_frame(110, 640, 360))
    assert luma_of(again) == 110
