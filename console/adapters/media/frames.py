"""Frame plumbing shared by the media engine: newest-only hand-off, copies, JPEG snapshots."""

from __future__ import annotations

import io
import sys
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


class OutgoingFramePool:
    """Recycles the frames `fresh_copy` hands to aiortc's encoder (and any other per-frame copy).

    Why: a new 720p frame per outgoing video frame (15 fps) was ~1.4 MB of allocation churn
    each, which either fragments glibc's heap (RSS grows in steps over a call) or, with the
    console's mmap threshold (`console.adapters.memory_tuning`), costs ~350 page faults a frame.

    A pooled frame is free again once nothing but the pool refers to it: aiortc drops the frame
    after encoding it (libvpx copies the picture into its own buffers during the encode call),
    so CPython's reference count says exactly when it may be overwritten. A pool that is all in
    use hands out plain new frames rather than growing.
    """

    # References to a free pooled frame while `take` looks at it: the pool's list, the loop
    # variable and sys.getrefcount's own argument.
    _FREE_REFS = 3

    def __init__(self, capacity: int = 4) -> None:
        self._capacity = capacity
        self._frames: list[av.VideoFrame] = []
        self._lock = threading.Lock()

    def take(self, width: int, height: int, pixel_format: str = "yuv420p") -> av.VideoFrame:
        """A writable frame of this size and format that no one else holds any more."""
        with self._lock:
            for frame in self._frames:
                if (
                    frame.width == width
                    and frame.height == height
                    and frame.format.name == pixel_format
                    and sys.getrefcount(frame) == self._FREE_REFS
                ):
                    # aiortc marks keyframe requests on the frame itself: never carry one over.
                    frame.pict_type = av.video.frame.PictureType.NONE
                    frame.pts = None
                    frame.make_writable()  # new buffers if libav still holds the old ones
                    return frame
            fresh = av.VideoFrame(width, height, pixel_format)
            if len(self._frames) >= self._capacity:
                # All in use, or other sizes: forget the oldest (its holder keeps it alive).
                self._frames.pop(0)
            self._frames.append(fresh)
            return fresh


_outgoing_pool = OutgoingFramePool()


def fresh_copy(frame: av.VideoFrame, pool: OutgoingFramePool | None = None) -> av.VideoFrame:
    """A YUV420P copy the caller may stamp with its own pts.

    Frames handed to several senders must not be mutated (aiortc encodes on executor threads),
    so every outgoing frame is a private copy: ~0.06 ms at 720p when the strides line up. The
    copy comes from `pool` (default: one pool for the process) and is recycled once dropped.
    """
    source = as_yuv420p(frame)
    copy = (pool or _outgoing_pool).take(source.width, source.height)
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
