"""GUI-thread cost of showing one decoded 720p frame: YUV plane copy vs the RGB QImage path.

    .venv/bin/python bench/bench_media_frame.py [--frames 300] [--width 1280 --height 720]

Path A (what `console.models.video_feed` does): copy the three YUV420P planes into a mapped
`QVideoFrame` and `QVideoSink.setVideoFrame` it. Path B (the common alternative):
`frame.to_ndarray("rgb24")` → `QImage` (copied) → `QVideoFrame(QImage)` → `setVideoFrame`.
Goal for path A: ≤ 0.2 ms per 720p frame (median). Sink paint time is excluded on purpose:
offscreen Qt converts on the CPU, which says nothing about a desktop GPU (media.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

import av
import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QVideoFrame, QVideoFrameFormat, QVideoSink
from PySide6.QtWidgets import QApplication

from console.models.video_feed import copy_into_video_frame


def synthetic_frames(count: int, width: int, height: int) -> list[av.VideoFrame]:
    """Distinct decoded-looking YUV420P frames (as a VP8 decoder would hand them over)."""
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (height * 3 // 2, width + count), dtype=np.uint8)
    return [
        av.VideoFrame.from_ndarray(np.ascontiguousarray(base[:, i : i + width]), format="yuv420p")
        for i in range(count)
    ]


def time_path(frames: list[av.VideoFrame], show) -> list[float]:
    samples = []
    for frame in frames:
        start = time.perf_counter()
        show(frame)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"{name:<38} median {statistics.median(samples):6.3f} ms   p95 {p95:6.3f} ms   "
        f"mean {statistics.fmean(samples):6.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    sink = QVideoSink()
    frames = synthetic_frames(args.frames, args.width, args.height)
    yuv_format = QVideoFrameFormat(
        QSize(args.width, args.height), QVideoFrameFormat.PixelFormat.Format_YUV420P
    )

    def yuv_path(frame: av.VideoFrame) -> None:
        sink.setVideoFrame(copy_into_video_frame(frame, yuv_format))

    def rgb_path(frame: av.VideoFrame) -> None:
        rgb = frame.to_ndarray(format="rgb24")
        image = QImage(
            rgb.data, frame.width, frame.height, frame.width * 3, QImage.Format.Format_RGB888
        ).copy()  # the buffer dies with `rgb`: a QImage over numpy memory must be copied
        sink.setVideoFrame(QVideoFrame(image))

    time_path(frames[:20], yuv_path)  # warm-up
    time_path(frames[:20], rgb_path)
    yuv = time_path(frames, yuv_path)
    rgb = time_path(frames, rgb_path)
    print(f"{args.frames} frames of {args.width}x{args.height}, GUI thread, offscreen Qt")
    print(summary("A: YUV planes -> QVideoFrame -> sink", yuv))
    print(summary("B: to_ndarray(rgb24) -> QImage -> sink", rgb))
    goal = "MET" if statistics.median(yuv) <= 0.2 else "MISSED"
    ratio = statistics.median(rgb) / statistics.median(yuv)
    print(f"goal A <= 0.2 ms median: {goal}; B/A = {ratio:.0f}x")
    del app


if __name__ == "__main__":
    main()
