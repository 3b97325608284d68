"""The sergeant's real camera, microphone and speaker through QtMultimedia (GUI thread).

Each device is optional. Absent or failing devices fall back to the NO CAMERA card, silence and
"drop remote audio", and the reason is published as a `LocalMediaStatus` so the UI can say
"Camera in use by another application" while the call carries on.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import replace

import av
import numpy as np
from PySide6.QtCore import QIODevice, QObject, QTimer, Signal
from PySide6.QtMultimedia import (
    QAudioFormat,
    QAudioSink,
    QAudioSource,
    QCamera,
    QMediaCaptureSession,
    QMediaDevices,
    QVideoFrame,
    QVideoFrameFormat,
    QVideoSink,
)

from console.adapters.media.frames import VideoFrameSink
from console.adapters.media.local_sources import (
    LocalMediaStatus,
    LocalVideoSource,
    MicrophoneSource,
)

_log = logging.getLogger(__name__)

PixelFormat = QVideoFrameFormat.PixelFormat
# Qt pixel formats we can copy plane-by-plane into PyAV without any colour conversion.
_AV_FORMATS: dict[PixelFormat, str] = {
    PixelFormat.Format_YUV420P: "yuv420p",
    PixelFormat.Format_NV12: "nv12",
    PixelFormat.Format_YUYV: "yuyv422",
    PixelFormat.Format_UYVY: "uyvy422",
    PixelFormat.Format_BGRA8888: "bgra",
    PixelFormat.Format_BGRX8888: "bgr0",
    PixelFormat.Format_RGBA8888: "rgba",
    PixelFormat.Format_RGBX8888: "rgb0",
    PixelFormat.Format_ARGB8888: "argb",
    PixelFormat.Format_XRGB8888: "0rgb",
    PixelFormat.Format_ABGR8888: "abgr",
    PixelFormat.Format_XBGR8888: "0bgr",
}
CAMERA_MAX_FPS = 30.0
CAMERA_MIN_FPS = 24.0
CAMERA_MAX_HEIGHT = 720
CAMERA_FIRST_FRAME_TIMEOUT_MS = 5000
SPEAKER_MAX_BUFFERED_SECONDS = 0.3
SPEAKER_DRAIN_INTERVAL_MS = 10
CARD_SUFFIX = " \u2014 sending the NO CAMERA card"


def choose_camera_format(options: list[tuple[int, int, float, PixelFormat]]) -> int | None:
    """Index of the camera format to use: at most 720p, at least 24 fps, as large as possible,
    preferring pixel formats we copy without conversion (`_AV_FORMATS`) over e.g. MJPEG.

    `options` are (width, height, max fps, pixel format); None means "leave Qt's default".
    """
    best: tuple[bool, int, float] | None = None
    chosen: int | None = None
    for index, (width, height, fps, pixel_format) in enumerate(options):
        if height > CAMERA_MAX_HEIGHT or fps < CAMERA_MIN_FPS:
            continue
        key = (pixel_format in _AV_FORMATS, width * height, min(fps, CAMERA_MAX_FPS))
        if best is None or key > best:
            best, chosen = key, index
    return chosen


def qt_frame_to_av(frame: QVideoFrame) -> av.VideoFrame | None:
    """Copy a camera `QVideoFrame` into a new `av.VideoFrame` (None if it cannot be mapped).

    Planar/packed YUV and 32-bit RGB formats are copied row by row (respecting bytesPerLine);
    anything else (e.g. MJPEG) goes through `toImage()`, which is slower but always works.
    """
    av_format = _AV_FORMATS.get(frame.pixelFormat())
    width, height = frame.width(), frame.height()
    if av_format is None or width <= 0 or height <= 0:
        return _via_qimage(frame)
    if not frame.map(QVideoFrame.MapMode.ReadOnly):
        return None
    try:
        out = av.VideoFrame(width, height, av_format)
        for index, plane in enumerate(out.planes):
            src_stride = frame.bytesPerLine(index)
            src = np.frombuffer(frame.bits(index), dtype=np.uint8)
            rows = min(plane.height, src.size // src_stride)
            dst = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
            row_bytes = min(src_stride, plane.line_size)
            dst[:rows, :row_bytes] = src[: rows * src_stride].reshape(rows, src_stride)[
                :, :row_bytes
            ]
        return out
    finally:
        frame.unmap()


def _via_qimage(frame: QVideoFrame) -> av.VideoFrame | None:
    image = frame.toImage()
    if image.isNull():
        return None
    rgb = image.convertToFormat(image.Format.Format_RGB888)
    stride = rgb.bytesPerLine()
    array = np.frombuffer(rgb.constBits(), dtype=np.uint8).reshape(rgb.height(), stride)
    pixels = array[:, : rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3)
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")


def pcm_to_mono_s16(data: bytes, audio_format: QAudioFormat) -> bytes:
    """Convert captured PCM in the device's format to mono signed 16-bit."""
    sample_format = audio_format.sampleFormat()
    if sample_format == QAudioFormat.SampleFormat.Int16:
        samples = np.frombuffer(data, dtype=np.int16).astype(np.float32)
    elif sample_format == QAudioFormat.SampleFormat.Int32:
        samples = np.frombuffer(data, dtype=np.int32).astype(np.float32) / 65536.0
    elif sample_format == QAudioFormat.SampleFormat.Float:
        samples = np.frombuffer(data, dtype=np.float32) * 32767.0
    elif sample_format == QAudioFormat.SampleFormat.UInt8:
        samples = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) * 256.0
    else:
        return b""
    channels = max(1, audio_format.channelCount())
    usable = samples.size - samples.size % channels
    mono = samples[:usable].reshape(-1, channels).mean(axis=1)
    return np.clip(mono, -32768, 32767).astype(np.int16).tobytes()


class QtSpeaker:
    """Plays remote audio on the default output device; silently drops it when there is none.

    `play()` runs on the media thread (resample + enqueue); a GUI-thread timer writes the queue
    into the QAudioSink, so Qt objects are only touched on the thread that owns them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._sink: QAudioSink | None = None
        self._io: QIODevice | None = None
        self._resampler: av.AudioResampler | None = None
        self._timer: QTimer | None = None
        self._channels = 2
        self._rate = 48_000
        self._logged_drop = False

    @property
    def available(self) -> bool:
        return self._sink is not None

    def open(self) -> bool:
        device = QMediaDevices.defaultAudioOutput()
        if device.isNull():
            _log.info("no audio output device: remote audio will be dropped")
            return False
        audio_format = QAudioFormat()
        audio_format.setSampleRate(48_000)
        audio_format.setChannelCount(2)
        audio_format.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(audio_format):
            audio_format = device.preferredFormat()
            audio_format.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self._channels = max(1, min(2, audio_format.channelCount()))
        self._rate = audio_format.sampleRate()
        audio_format.setChannelCount(self._channels)
        self._sink = QAudioSink(device, audio_format)
        self._io = self._sink.start()
        self._timer = QTimer()
        self._timer.setInterval(SPEAKER_DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)
        self._timer.start()
        _log.info("speaker: %s (%d Hz, %d ch)", device.description(), self._rate, self._channels)
        return True

    def play(self, frame: av.AudioFrame) -> None:
        """Queue one decoded remote audio frame (media thread)."""
        if self._sink is None:
            if not self._logged_drop:
                self._logged_drop = True
                _log.info("dropping remote audio: no speaker")
            return
        if self._resampler is None:
            layout = "stereo" if self._channels == 2 else "mono"
            self._resampler = av.AudioResampler(format="s16", layout=layout, rate=self._rate)
        data = b"".join(bytes(out.planes[0]) for out in self._resampler.resample(frame))
        limit = int(self._rate * SPEAKER_MAX_BUFFERED_SECONDS) * 2 * self._channels
        with self._lock:
            self._chunks.append(data)
            self._buffered += len(data)
            while self._buffered > limit and self._chunks:
                self._buffered -= len(self._chunks.popleft())

    def _drain(self) -> None:
        if self._sink is None or self._io is None:
            return
        free = self._sink.bytesFree()
        with self._lock:
            while self._chunks and free > 0:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if len(chunk) > free:
                    self._chunks.appendleft(chunk[free:])
                    self._buffered += len(chunk) - free
                    chunk = chunk[:free]
                written = self._io.write(chunk)
                free -= max(0, int(written))

    def close(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self._sink is not None:
            self._sink.stop()
        self._sink = None
        self._io = None


class QtDevices(QObject):
    """Opens the default camera, microphone and speaker once for the whole app (GUI thread)."""

    status_changed = Signal(object)  # LocalMediaStatus

    def __init__(
        self,
        video_source: LocalVideoSource,
        microphone: MicrophoneSource,
        self_view_sink: VideoFrameSink | None,
    ) -> None:
        super().__init__()
        self._video_source = video_source
        self._microphone = microphone
        self._self_view_sink = self_view_sink
        self._status = LocalMediaStatus()
        self.speaker = QtSpeaker()
        self._camera: QCamera | None = None
        self._session: QMediaCaptureSession | None = None
        self._camera_sink: QVideoSink | None = None
        self._last_camera_frame_at = 0.0
        self._audio_source: QAudioSource | None = None
        self._audio_io: QIODevice | None = None
        self._audio_format: QAudioFormat | None = None

    def open(self) -> None:
        """Open whatever devices exist; publish the resulting status."""
        self._open_camera()
        self._open_microphone()
        self._publish(speaker_in_use=self.speaker.open())

    def close(self) -> None:
        if self._camera is not None:
            self._camera.stop()
        if self._audio_source is not None:
            self._audio_source.stop()
        self.speaker.close()
        self._video_source.set_camera_live(False)

    # ---- camera ----------------------------------------------------------------------------

    def _open_camera(self) -> None:
        if not QMediaDevices.videoInputs():
            self._publish(camera_in_use=False, camera_message="No camera found" + CARD_SUFFIX)
            return
        device = QMediaDevices.defaultVideoInput()
        self._camera = QCamera(device)
        formats = device.videoFormats()
        choice = choose_camera_format(
            [
                (f.resolution().width(), f.resolution().height(), f.maxFrameRate(), f.pixelFormat())
                for f in formats
            ]
        )
        if choice is not None:
            self._camera.setCameraFormat(formats[choice])
        self._camera_sink = QVideoSink()
        self._session = QMediaCaptureSession()
        self._session.setCamera(self._camera)
        self._session.setVideoSink(self._camera_sink)
        self._camera.errorOccurred.connect(self._on_camera_error)
        self._camera_sink.videoFrameChanged.connect(self._on_camera_frame)
        self._camera.start()
        self._publish(camera_in_use=False, camera_message="Starting camera" + CARD_SUFFIX)
        QTimer.singleShot(CAMERA_FIRST_FRAME_TIMEOUT_MS, self._check_camera_started)

    def _on_camera_frame(self, frame: QVideoFrame) -> None:
        now = time.monotonic()
        if now - self._last_camera_frame_at < 1.0 / CAMERA_MAX_FPS:
            return  # cap at 30 fps: calls are capped at 720p30 anyway
        converted = qt_frame_to_av(frame)
        if converted is None:
            return
        self._last_camera_frame_at = now
        if not self._video_source.camera_live:
            self._video_source.set_camera_live(True)
            self._publish(camera_in_use=True, camera_message="Camera on")
        self._video_source.push_camera_frame(converted)
        if self._self_view_sink is not None:
            self._self_view_sink.offer_frame(converted)

    def _on_camera_error(self, _error: QCamera.Error, message: str) -> None:
        lowered = message.lower()
        if "busy" in lowered or "in use" in lowered:
            text = "Camera in use by another application"
        else:
            text = f"Camera failed ({message})"
        _log.warning("camera: %s", message)
        self._video_source.set_camera_live(False)
        self._publish(camera_in_use=False, camera_message=text + CARD_SUFFIX)

    def _check_camera_started(self) -> None:
        if self._camera is not None and not self._video_source.camera_live:
            _log.warning("camera delivered no picture within %d ms", CAMERA_FIRST_FRAME_TIMEOUT_MS)
            self._publish(
                camera_in_use=False,
                camera_message="Camera gives no picture (in use by another application?)"
                + CARD_SUFFIX,
            )

    # ---- microphone ------------------------------------------------------------------------

    def _open_microphone(self) -> None:
        device = QMediaDevices.defaultAudioInput()
        if device.isNull():
            self._publish(microphone_in_use=False)
            return
        audio_format = QAudioFormat()
        audio_format.setSampleRate(48_000)
        audio_format.setChannelCount(1)
        audio_format.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(audio_format):
            audio_format = device.preferredFormat()
        self._audio_format = audio_format
        self._microphone.sample_rate = audio_format.sampleRate()
        self._audio_source = QAudioSource(device, audio_format)
        self._audio_io = self._audio_source.start()
        if self._audio_io is None:
            self._publish(microphone_in_use=False, microphone_message="Microphone unavailable")
            return
        self._audio_io.readyRead.connect(self._on_microphone_data)
        self._publish(microphone_in_use=True, microphone_message=device.description())

    def _on_microphone_data(self) -> None:
        if self._audio_io is None or self._audio_format is None:
            return
        data = bytes(self._audio_io.readAll().data())
        if data:
            self._microphone.push(pcm_to_mono_s16(data, self._audio_format))

    def _publish(self, **changes: object) -> None:
        self._status = replace(self._status, **changes)  # type: ignore[arg-type]
        self.status_changed.emit(self._status)
