"""Video feeds: the media thread offers decoded frames, the GUI thread renders only the newest.

`offer_frame()` is called on the MEDIA thread for every decoded frame. It only swaps the pending
frame under a lock and, if no render is scheduled yet, posts one queued signal to the GUI thread.
So however many frames arrive while the GUI thread is busy, exactly one render follows, of the
newest frame; stale frames are dropped, never queued.

The render copies the three YUV420P planes into a `QVideoFrame` (mapped WriteOnly, row strides
respected) and hands it to a `QVideoSink`. There is NO RGB conversion on the GUI thread: measured
~0.06 ms per 720p frame for the plane copy against 3.5-4 ms for `to_ndarray("rgb24")` → QImage
(bench/bench_media_frame.py, docs/performance.md).
"""

from __future__ import annotations

import logging
import threading

import av
import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtMultimedia import QVideoFrame, QVideoFrameFormat, QVideoSink

_log = logging.getLogger(__name__)


# How many QVideoFrames a feed cycles through. The sink shows one; the one written next was
# shown two renders ago, so a consumer still holding the previous frame (e.g. a desktop video
# widget mid-upload) never sees it overwritten. Painting (VideoSurface) is synchronous on the GUI
# thread and only ever reads the sink's current frame.
RENDER_RING_SIZE = 3


def copy_into_video_frame(
    frame: av.VideoFrame, video_format: QVideoFrameFormat, target: QVideoFrame | None = None
) -> QVideoFrame:
    """Copy a YUV420P `av.VideoFrame` into `target` (a new `QVideoFrame` of `video_format` when
    None) and return it (GUI thread)."""
    target = QVideoFrame(video_format) if target is None else target
    if not target.map(QVideoFrame.MapMode.WriteOnly):
        raise RuntimeError("could not map a QVideoFrame for writing")
    try:
        for index, plane in enumerate(frame.planes):
            dst = np.frombuffer(target.bits(index), dtype=np.uint8)
            src = np.frombuffer(plane, dtype=np.uint8)
            dst_stride = target.bytesPerLine(index)
            if dst_stride == plane.line_size and dst.size == src.size:
                dst[:] = src  # same layout: one contiguous copy
                continue
            rows = min(plane.height, dst.size // dst_stride)
            row_bytes = min(plane.width, dst_stride, plane.line_size)
            dst_rows = dst[: rows * dst_stride].reshape(rows, dst_stride)
            src_rows = src[: rows * plane.line_size].reshape(rows, plane.line_size)
            dst_rows[:, :row_bytes] = src_rows[:, :row_bytes]
    finally:
        target.unmap()
    return target


class VideoFeed(QObject):
    """Owns a `QVideoSink`; renders the newest offered frame on the GUI thread."""

    frame_rendered = Signal(int, int)  # width, height of the frame just shown
    first_frame = Signal()
    _render_requested = Signal()  # private: crosses from the media thread to the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sink = QVideoSink(self)
        self._lock = threading.Lock()
        self._pending: av.VideoFrame | None = None
        self._render_scheduled = False
        self._offered = 0
        self._rendered = 0
        self._format: QVideoFrameFormat | None = None
        # Reused render targets (RENDER_RING_SIZE): a fresh ~1.4 MB QVideoFrame per 720p frame
        # at 30 fps was the biggest allocation churn of a call and fragmented the GUI thread's
        # heap (RSS soak, docs/performance.md).
        self._ring: list[QVideoFrame] = []
        self._ring_next = 0
        # Queued even when offered on the GUI thread itself: rendering never re-enters a caller.
        self._render_requested.connect(self._render_pending, Qt.ConnectionType.QueuedConnection)

    @property
    def video_sink(self) -> QVideoSink:
        """The sink widgets paint from (`sink.videoFrame()`, `videoFrameChanged`)."""
        return self._sink

    @property
    def offered_count(self) -> int:
        with self._lock:
            return self._offered

    @property
    def rendered_count(self) -> int:
        return self._rendered

    def offer_frame(self, frame: av.VideoFrame) -> None:
        """Hand over a decoded frame from any thread; only the newest one is rendered."""
        with self._lock:
            self._pending = frame
            self._offered += 1
            if self._render_scheduled:
                return
            self._render_scheduled = True
        self._render_requested.emit()

    def clear(self) -> None:
        """Forget any pending frame and blank the sink (call ended)."""
        with self._lock:
            self._pending = None
        self._sink.setVideoFrame(QVideoFrame())
        self._ring.clear()  # give the frame memory back between calls
        self._ring_next = 0
        self._rendered = 0

    def _render_pending(self) -> None:
        with self._lock:
            frame, self._pending = self._pending, None
            self._render_scheduled = False
        if frame is None:
            return
        if frame.format.name != "yuv420p":
            # Never expected from the engine (it converts on the media thread); stay correct.
            frame = frame.reformat(format="yuv420p")
        video_format = self._format_for(frame.width, frame.height)
        self._sink.setVideoFrame(
            copy_into_video_frame(frame, video_format, self._ring_frame(video_format))
        )
        self._rendered += 1
        if self._rendered == 1:
            self.first_frame.emit()
        self.frame_rendered.emit(frame.width, frame.height)

    def _format_for(self, width: int, height: int) -> QVideoFrameFormat:
        current = self._format
        if current is None or current.frameWidth() != width or current.frameHeight() != height:
            current = QVideoFrameFormat(
                QSize(width, height), QVideoFrameFormat.PixelFormat.Format_YUV420P
            )
            self._format = current
            self._ring.clear()  # the old frames have the old size
            self._ring_next = 0
        return current

    def _ring_frame(self, video_format: QVideoFrameFormat) -> QVideoFrame:
        """The next render target: a new frame while the ring fills up, then the oldest again."""
        if len(self._ring) < RENDER_RING_SIZE:
            target = QVideoFrame(video_format)
            self._ring.append(target)
            return target
        target = self._ring[self._ring_next]
        self._ring_next = (self._ring_next + 1) % RENDER_RING_SIZE
        return target


class RemoteVideoFeed(VideoFeed):
    """The officer's live video (the big picture in the video pane)."""


class SelfViewFeed(VideoFeed):
    """What the sergeant is sending: his camera picture or the NO CAMERA card."""
