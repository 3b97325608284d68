"""Unit tests for the simulator's synthetic media: sizes, timestamps, motion, and the consumer."""

from __future__ import annotations

import asyncio
import fractions
import io

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from PIL import Image

from field.media import (
    AUDIO_SAMPLE_RATE,
    SIZE_480P,
    SIZE_720P,
    VIDEO_TIME_BASE,
    PortraitVideoTrack,
    SyntheticVideo,
    ToneTrack,
    TrackConsumer,
    load_portrait,
)


def _photo_png(colour: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (240, 320), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("size", [SIZE_480P, SIZE_720P])
def test_frames_have_the_requested_size_and_format(size: tuple[int, int]) -> None:
    video = SyntheticVideo(load_portrait(_photo_png()), "PC 1001CW", size)
    frame = video.render(0.0, wall_clock=1_700_000_000.0)
    assert (frame.width, frame.height) == size
    assert frame.format.name == "yuv420p"


def test_odd_sizes_are_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="even"):
        SyntheticVideo(load_portrait(None), "PC 1001CW", (641, 480))


def test_pixels_change_over_time() -> None:
    video = SyntheticVideo(load_portrait(_photo_png()), "PC 1001CW")
    first = video.render(0.0, wall_clock=1000.0).to_ndarray().copy()
    later = video.render(0.6, wall_clock=1000.6).to_ndarray()
    changed = np.count_nonzero(first != later)
    assert changed > 1000, f"only {changed} bytes changed in 0.6 s of video"


def test_the_portrait_is_in_the_picture() -> None:
    """A red photo shows up as red in the middle of the frame (the photo is really used)."""
    video = SyntheticVideo(load_portrait(_photo_png((220, 20, 20))), "PC 1001CW")
    rgb = video.render(0.0, wall_clock=1000.0).to_ndarray(format="rgb24")
    red, green, blue = rgb[240, 320].astype(int)
    assert red > 150, (red, green, blue)
    assert max(green, blue) < 90, (red, green, blue)


def test_the_clock_is_burned_in() -> None:
    """Different wall-clock seconds give different pixels in the caption strip only."""
    video = SyntheticVideo(load_portrait(None), "PC 1001CW")
    a = video.render(0.0, wall_clock=1000.0).to_ndarray().copy()
    b = video.render(0.0, wall_clock=1001.0).to_ndarray()
    rows, cols = np.nonzero(a[:480] != b[:480])
    assert rows.size > 0
    assert rows.max() < 60
    assert cols.max() < 400


def test_an_unreadable_photo_falls_back_to_a_silhouette() -> None:
    portrait = load_portrait(b"this is not an image")
    assert portrait.size[0] > 0
    assert portrait.mode == "RGB"


async def test_video_track_pts_increase_at_30_fps() -> None:
    track = PortraitVideoTrack(SyntheticVideo(load_portrait(None), "PC 1001CW"))
    frames = [await track.recv() for _ in range(5)]
    pts = [f.pts for f in frames]
    assert all(f.time_base == VIDEO_TIME_BASE for f in frames)
    assert pts == sorted(pts)
    assert len(set(pts)) == 5
    assert pts[1] - pts[0] == 3000  # 90 kHz / 30 fps
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()


async def test_tone_track_sends_20ms_s16_frames_of_a_tone() -> None:
    track = ToneTrack()
    frames = [await track.recv() for _ in range(3)]
    for frame in frames:
        assert frame.sample_rate == AUDIO_SAMPLE_RATE
        assert frame.samples == 960
        assert frame.format.name == "s16"
        assert frame.time_base == fractions.Fraction(1, AUDIO_SAMPLE_RATE)
    assert [f.pts for f in frames] == [0, 960, 1920]
    samples = frames[1].to_ndarray()
    assert np.abs(samples).max() > 1000  # not silence


class _ScriptedTrack(MediaStreamTrack):
    """A hand-written fake remote track: hands out N frames, then ends."""

    kind = "video"

    def __init__(self, count: int) -> None:
        super().__init__()
        self.remaining = count

    async def recv(self) -> av.VideoFrame:
        await asyncio.sleep(0)  # yield like a real network track would
        if self.remaining == 0:
            raise MediaStreamError
        self.remaining -= 1
        frame = av.VideoFrame(width=32, height=24, format="yuv420p")
        frame.pts = 100 - self.remaining
        return frame


async def test_consumer_counts_frames_and_keeps_only_the_newest() -> None:
    consumer = TrackConsumer(_ScriptedTrack(7))
    consumer.start()
    assert await consumer.wait_for_frames(7, timeout_s=30)
    assert consumer.stats.frames == 7
    assert (consumer.stats.width, consumer.stats.height) == (32, 24)
    assert consumer.latest is not None
    assert consumer.latest.pts == 100
    # The track has ended: asking for more returns False instead of hanging.
    assert not await consumer.wait_for_frames(8, timeout_s=5)
    await consumer.stop()
