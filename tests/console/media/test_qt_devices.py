"""QtMultimedia glue that CI can exercise without devices: frame conversion, PCM, fallbacks."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PySide6.QtCore import QSize
from PySide6.QtMultimedia import QAudioFormat, QMediaDevices, QVideoFrame, QVideoFrameFormat

from console.adapters.media.engine import AiortcMediaEngine
from console.adapters.media.local_sources import LocalMediaStatus
from console.adapters.media.qt_devices import (
    QtSpeaker,
    choose_camera_format,
    pcm_to_mono_s16,
    qt_frame_to_av,
)
from tests.console.media.conftest import TEST_CARD

PixelFormat = QVideoFrameFormat.PixelFormat


def qt_frame(pixel_format: PixelFormat, fill: list[int], width: int = 64, height: int = 48):
    frame = QVideoFrame(QVideoFrameFormat(QSize(width, height), pixel_format))
    assert frame.map(QVideoFrame.MapMode.WriteOnly)
    for plane, value in enumerate(fill):
        np.frombuffer(frame.bits(plane), dtype=np.uint8)[:] = value
    frame.unmap()
    return frame


@pytest.mark.parametrize(
    ("pixel_format", "fill", "av_format"),
    [
        (PixelFormat.Format_YUV420P, [200, 90, 240], "yuv420p"),
        (PixelFormat.Format_NV12, [200, 100], "nv12"),
        (PixelFormat.Format_BGRA8888, [77], "bgra"),
    ],
)
def test_camera_frames_are_copied_plane_by_plane(qapp, pixel_format, fill, av_format) -> None:
    converted = qt_frame_to_av(qt_frame(pixel_format, fill))
    assert converted is not None
    assert (converted.width, converted.height, converted.format.name) == (64, 48, av_format)
    for plane, value in zip(converted.planes, fill, strict=True):
        rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
        assert (rows[: plane.height, : plane.width] == value).all()


def test_unusual_camera_formats_go_through_qimage(qapp) -> None:
    converted = qt_frame_to_av(qt_frame(PixelFormat.Format_Y8, [128]))
    assert converted is not None
    assert (converted.width, converted.height) == (64, 48)
    rgb = converted.to_ndarray(format="rgb24")
    assert 100 < rgb.mean() < 160


def test_float_stereo_capture_becomes_mono_s16() -> None:
    audio_format = QAudioFormat()
    audio_format.setSampleFormat(QAudioFormat.SampleFormat.Float)
    audio_format.setChannelCount(2)
    stereo = np.array([[0.5, 0.5], [-0.5, -0.5], [1.0, 0.0]], dtype=np.float32)
    mono = np.frombuffer(pcm_to_mono_s16(stereo.tobytes(), audio_format), dtype=np.int16)
    np.testing.assert_array_equal(mono, [16383, -16383, 16383])


def test_speaker_opens_only_with_an_output_device_and_never_raises(qapp) -> None:
    speaker = QtSpeaker()
    opened = speaker.open()  # CI has no output device: remote audio is dropped, logged once
    assert opened == bool(QMediaDevices.audioOutputs())
    frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
    frame.sample_rate = 48_000
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    speaker.play(frame)
    speaker.play(frame)
    assert speaker.available == opened
    speaker.close()
    assert not speaker.available


async def test_engine_with_devices_reports_what_it_found(qapp) -> None:
    statuses: list[LocalMediaStatus] = []
    engine = AiortcMediaEngine(card_style=TEST_CARD, use_devices=True)
    try:
        engine.add_status_listener(statuses.append)
        status = engine.local_status()
        if not QMediaDevices.videoInputs():
            assert status.using_card
            assert status.camera_message.startswith("No camera found")
        if not QMediaDevices.audioInputs():
            assert not status.microphone_in_use
            assert engine.microphone_level() == 0.0
        assert status.camera_message
    finally:
        await engine.shutdown()
        await engine.shutdown()  # idempotent


def test_camera_format_choice_caps_at_720p30_and_prefers_raw_formats() -> None:
    options = [
        (1920, 1080, 30.0, PixelFormat.Format_YUYV),  # too tall
        (1280, 720, 30.0, PixelFormat.Format_Jpeg),  # needs decoding
        (1280, 720, 10.0, PixelFormat.Format_YUYV),  # too slow
        (1280, 720, 30.0, PixelFormat.Format_NV12),  # the one
        (640, 480, 30.0, PixelFormat.Format_YUYV),
    ]
    assert choose_camera_format(options) == 3
    assert choose_camera_format(options[:2]) == 1  # MJPEG beats nothing
    assert choose_camera_format([(3840, 2160, 30.0, PixelFormat.Format_NV12)]) is None
