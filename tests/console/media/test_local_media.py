"""Local sources and tracks: the NO CAMERA card, mic buffering and level, outgoing tracks."""

from __future__ import annotations

import datetime as dt

import av
import numpy as np
import pytest

from console.adapters.media.card import BACKGROUND_RGB, CardRenderer, CardStyle
from console.adapters.media.local_sources import (
    LocalMediaStatus,
    LocalVideoSource,
    MicrophoneSource,
    rms_level,
)
from console.adapters.media.local_tracks import LocalAudioTrack, LocalVideoTrack

SMALL = CardStyle(width=320, height=180)


def test_card_changes_every_second_and_is_cached_within_one() -> None:
    renderer = CardRenderer(SMALL)
    t0 = dt.datetime(2026, 1, 1, 10, 0, 0, 100_000)
    first = renderer.frame_at(t0)
    same_second = renderer.frame_at(t0 + dt.timedelta(milliseconds=500))
    next_second = renderer.frame_at(t0 + dt.timedelta(seconds=1))

    assert same_second is first
    assert (first.width, first.height, first.format.name) == (320, 180, "yuv420p")
    a = first.to_ndarray(format="rgb24").astype(int)
    b = next_second.to_ndarray(format="rgb24").astype(int)
    assert np.abs(a - b).sum() > 0, "the clock did not move"
    corner = a[40:60, 5:20].reshape(-1, 3).mean(axis=0)
    assert np.abs(corner - BACKGROUND_RGB).max() < 12


def test_video_source_prefers_a_live_camera() -> None:
    source = LocalVideoSource(SMALL)
    camera = av.VideoFrame(320, 180, "yuv420p")
    source.push_camera_frame(camera)
    assert source.current_frame() is not camera  # not live yet: still the card

    source.set_camera_live(True)
    source.push_camera_frame(camera)
    assert source.current_frame() is camera

    source.set_camera_live(False)  # camera failed: back to the card
    assert source.current_frame() is not camera


@pytest.mark.parametrize(
    ("amplitude", "low", "high"),
    [(0, 0.0, 0.0), (330, 0.3, 0.37), (3300, 0.63, 0.7), (32767, 0.99, 1.0)],
)
def test_rms_level_maps_dbfs_onto_0_to_1(amplitude: int, low: float, high: float) -> None:
    pcm = np.full(960, amplitude, dtype=np.int16).tobytes()
    assert low <= rms_level(pcm) <= high


def test_rms_level_of_nothing_is_zero() -> None:
    assert rms_level(b"") == 0.0


def test_microphone_pull_pads_with_silence_and_keeps_order() -> None:
    mic = MicrophoneSource(sample_rate=48_000)
    mic.push(np.arange(1, 601, dtype=np.int16).tobytes())
    mic.push(np.arange(601, 1201, dtype=np.int16).tobytes())

    first = np.frombuffer(mic.pull(960), dtype=np.int16)
    second = np.frombuffer(mic.pull(960), dtype=np.int16)

    np.testing.assert_array_equal(first, np.arange(1, 961))
    np.testing.assert_array_equal(second[:240], np.arange(961, 1201))
    assert not second[240:].any()
    assert mic.level > 0


def test_microphone_drops_the_oldest_audio_beyond_its_buffer() -> None:
    mic = MicrophoneSource(sample_rate=48_000)
    for value in range(1, 21):  # 20 x 20 ms = 400 ms > 250 ms limit
        mic.push(np.full(960, value, dtype=np.int16).tobytes())
    first = np.frombuffer(mic.pull(960), dtype=np.int16)
    assert first[0] > 1, "oldest audio was not dropped"


def test_status_defaults_say_the_card_is_used() -> None:
    status = LocalMediaStatus()
    assert status.using_card
    assert "NO CAMERA" in status.camera_message


async def test_video_track_sends_private_copies_with_rising_pts() -> None:
    source = LocalVideoSource(SMALL)
    track = LocalVideoTrack(source, fps=50)
    first = await track.recv()
    second = await track.recv()
    assert first is not second
    assert first is not source.current_frame()
    assert second.pts > first.pts
    track.enabled = False  # camera off: the CAMERA OFF card, still a picture
    off = await track.recv()
    off_pixels = off.to_ndarray(format="rgb24").astype(int)
    on_pixels = first.to_ndarray(format="rgb24").astype(int)
    assert np.abs(off_pixels - on_pixels).sum() > 0
    track.stop()


async def test_audio_track_sends_mic_audio_and_silence_when_muted() -> None:
    mic = MicrophoneSource(sample_rate=48_000)
    track = LocalAudioTrack(mic)
    mic.push(np.full(960, 1000, dtype=np.int16).tobytes())
    live = await track.recv()
    assert (live.samples, live.sample_rate) == (960, 48_000)
    assert np.frombuffer(bytes(live.planes[0]), dtype=np.int16)[:960].min() == 1000

    track.muted = True
    mic.push(np.full(960, 1000, dtype=np.int16).tobytes())
    muted = await track.recv()
    assert not np.frombuffer(bytes(muted.planes[0]), dtype=np.int16)[:960].any()
    track.stop()


async def test_video_track_scales_anything_taller_than_720p() -> None:
    source = LocalVideoSource(SMALL)
    source.set_camera_live(True)
    source.push_camera_frame(av.VideoFrame(1920, 1080, "yuv420p"))
    track = LocalVideoTrack(source, fps=50)
    sent = await track.recv()
    assert (sent.width, sent.height) == (1280, 720)
    track.stop()
