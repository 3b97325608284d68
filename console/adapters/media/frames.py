"""Frame plumbing shared by the media engine: newest-only hand-off, copies, JPEG snapshots."""

from __future__ import annotations

import io
import threading
from typing import Protocol

import av
import numpy as np


class VideoFrameSink(Protocol):
    """Where the engine hands decoded frames (e.g. `console.models.video_feed.RemoteVideoFeed`).

    `offer_frame` is called from the MEDIA thread for every frame; the sink must be thread-safe,
    keep only the newest frame and never block (the GUI thread renders it when it can).
    """

    def offer_frame(self, frame: av.VideoFrame) -> None: ...


class LatestFrame:
    """A thread-safe box holding only the newest frame, plus a count of frames put in.

    Older frames are dropped on purpose: a slow consumer must see the present, not a growing
    backlog (aiortc's receive queue is unbounded; media.md).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: av.VideoFrame | None = None
        self._count = 0

    def put(self, frame: av.VideoFrame) -> None:
        with self._lock:
            self._frame = frame
            self._count += 1

    def get(self) -> av.VideoFrame | None:
        with self._lock:
            return self._frame

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def clear(self) -> None:
        with self._lock:
            self._frame = None


def as_yuv420p(frame: av.VideoFrame) -> av.VideoFrame:
    """Return `frame` in YUV420P (VP8 decodes to it already, so usually no work)."""
    if frame.format.name == "yuv420p":
        return frame
    return frame.reformat(format="yuv420p")


def fresh_copy(frame: av.VideoFrame) -> av.VideoFrame:
    """A YUV420P copy the caller may stamp with its own pts.

    Frames handed to several senders must not be mutated (aiortc encodes on executor threads),
    so every outgoing frame is a private copy: ~0.06 ms at 720p when the strides line up.
    """
    source = as_yuv420p(frame)
    copy = av.VideoFrame(source.width, source.height, "yuv420p")
    if all(
        dst.line_size == src.line_size and dst.buffer_size == src.buffer_size
        for dst, src in zip(copy.planes, source.planes, strict=True)
    ):
        for dst, src in zip(copy.planes, source.planes, strict=True):
            np.frombuffer(dst, dtype=np.uint8)[:] = np.frombuffer(src, dtype=np.uint8)
        return copy
    return av.VideoFrame.from_ndarray(source.to_ndarray(), format="yuv420p")


def encode_jpeg(frame: av.VideoFrame, quality: int = 85) -> bytes:
    """Encode one frame as JPEG (done lazily on request, never per frame)."""
    buffer = io.BytesIO()
    frame.to_image().save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
