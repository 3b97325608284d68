"""RemoteVideoFeed: newest-frame-only hand-off from another thread, exact plane copies."""

from __future__ import annotations

import threading

import av
import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtMultimedia import QVideoFrame, QVideoFrameFormat
from PySide6.QtWidgets import QApplication

from console.models.video_feed import RemoteVideoFeed, copy_into_video_frame


def flat_frame(luma: int, width: int = 320, height: int = 180) -> av.VideoFrame:
    planes = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
    planes[:height] = luma
    return av.VideoFrame.from_ndarray(planes, format="yuv420p")


def rendered_luma(feed: RemoteVideoFeed) -> int:
    frame = QVideoFrame(feed.video_sink.videoFrame())
    assert frame.map(QVideoFrame.MapMode.ReadOnly)
    try:
        return int(np.frombuffer(frame.bits(0), dtype=np.uint8)[0])
    finally:
        frame.unmap()


def test_only_the_newest_frame_is_rendered_after_a_busy_gui(qtbot) -> None:
    feed = RemoteVideoFeed()
    frames = [flat_frame(luma) for luma in range(20, 220, 4)]  # 50 frames

    # The "media thread" offers 50 frames while the GUI thread processes no events at all.
    offerer = threading.Thread(target=lambda: [feed.offer_frame(f) for f in frames])
    offerer.start()
    offerer.join()
    assert feed.offered_count == 50
    assert feed.rendered_count == 0

    with qtbot.waitSignal(feed.frame_rendered, timeout=30000) as rendered:
        pass  # waiting processes events: the one queued render runs
    QApplication.processEvents()

    assert rendered.args == [320, 180]
    assert feed.rendered_count == 1
    assert rendered_luma(feed) == bytes(frames[-1].planes[0])[0] == 216


def test_first_frame_signal_fires_once(qtbot) -> None:
    feed = RemoteVideoFeed()
    firsts: list[bool] = []
    feed.first_frame.connect(lambda: firsts.append(True))
    for luma in (50, 90, 130):
        with qtbot.waitSignal(feed.frame_rendered, timeout=30000):
            feed.offer_frame(flat_frame(luma))
    assert firsts == [True]
    assert feed.rendered_count == 3


def test_copy_respects_padded_source_strides(qapp) -> None:
    # 100 px wide: libav pads rows (line_size > width), Qt uses its own bytesPerLine.
    width, height = 100, 50
    ys, xs = np.mgrid[0:height, 0:width]
    luma = ((xs * 2 + ys) % 256).astype(np.uint8)
    planes = np.concatenate(
        [luma.reshape(-1), np.full(width * height // 2, 128, dtype=np.uint8)]
    ).reshape(height * 3 // 2, width)
    frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    video_format = QVideoFrameFormat(
        QSize(width, height), QVideoFrameFormat.PixelFormat.Format_YUV420P
    )

    copied = copy_into_video_frame(frame, video_format)

    assert copied.map(QVideoFrame.MapMode.ReadOnly)
    try:
        stride = copied.bytesPerLine(0)
        got = np.frombuffer(copied.bits(0), dtype=np.uint8)[: stride * height]
        np.testing.assert_array_equal(got.reshape(height, stride)[:, :width], luma)
    finally:
        copied.unmap()


def test_clear_blanks_the_sink(qtbot) -> None:
    feed = RemoteVideoFeed()
    with qtbot.waitSignal(feed.frame_rendered, timeout=30000):
        feed.offer_frame(flat_frame(100))
    assert feed.video_sink.videoFrame().isValid()
    feed.clear()
    assert not feed.video_sink.videoFrame().isValid()
