"""Thread-safe local media sources shared by every call: camera-or-card video and mic-or-silence.

The camera and microphone are opened once per app (by `qt_devices`, on the GUI thread) and push
into these sources; each call's outgoing tracks (`local_tracks`, on the media thread) read from
them. That is the fan-out: no device is opened twice, no call waits for another.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
from dataclasses import dataclass

import av
import numpy as np

from console.adapters.media.card import CardRenderer, CardStyle
from console.adapters.media.frames import LatestFrame

_log = logging.getLogger(__name__)

MIC_SAMPLE_RATE = 48_000
# Keep at most this much microphone audio waiting for the sender; older audio is dropped so a
# stalled sender never plays the officer a growing delay.
MIC_MAX_BUFFERED_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class LocalMediaStatus:
    """What the UI shows about the sergeant's own devices."""

    camera_in_use: bool = False
    camera_message: str = "No camera found \u2014 sending the NO CAMERA card"
    microphone_in_use: bool = False
    microphone_message: str = "No microphone found \u2014 sending silence"
    speaker_in_use: bool = False

    @property
    def using_card(self) -> bool:
        """True when calls get the generated NO CAMERA card instead of a camera picture."""
        return not self.camera_in_use


class LocalVideoSource:
    """The newest camera frame, or the NO CAMERA card when there is no working camera."""

    def __init__(self, card_style: CardStyle | None = None) -> None:
        self._camera_frames = LatestFrame()
        self._lock = threading.Lock()
        self._camera_live = False
        self._card = CardRenderer(card_style)
        self._off_card = CardRenderer(
            CardStyle(
                width=self._card.style.width,
                height=self._card.style.height,
                title="CONTROL ROOM \u2014 CAMERA OFF",
                subtitle="The sergeant has turned the camera off",
            )
        )

    @property
    def camera_live(self) -> bool:
        with self._lock:
            return self._camera_live

    def set_camera_live(self, live: bool) -> None:
        """Called by the camera capture when it starts delivering or fails."""
        with self._lock:
            self._camera_live = live
        if not live:
            self._camera_frames.clear()

    def push_camera_frame(self, frame: av.VideoFrame) -> None:
        """Store a camera frame (any thread); only the newest is kept."""
        self._camera_frames.put(frame)

    def current_frame(self, now: dt.datetime | None = None) -> av.VideoFrame:
        """The frame a call should send right now (shared: copy before stamping a pts)."""
        frame = self._camera_frames.get() if self.camera_live else None
        if frame is not None:
            return frame
        with self._lock:  # the renderer's cache is not thread-safe
            return self._card.frame_at(now or dt.datetime.now())

    def camera_off_frame(self, now: dt.datetime | None = None) -> av.VideoFrame:
        """The card sent while the sergeant has switched the camera off for a call."""
        with self._lock:
            return self._off_card.frame_at(now or dt.datetime.now())


def rms_level(pcm_s16: bytes) -> float:
    """Loudness of signed 16-bit PCM as 0..1 (RMS against full scale, on a dB-like curve).

    A linear RMS of speech sits around 0.01-0.1 and would barely move a meter, so the value
    maps -60 dBFS..0 dBFS onto 0..1.
    """
    samples = np.frombuffer(pcm_s16, dtype=np.int16)
    if samples.size == 0:
        return 0.0
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float32))))) / 32768.0
    if rms <= 1e-6:
        return 0.0
    decibels = 20.0 * np.log10(rms)
    return float(min(1.0, max(0.0, (decibels + 60.0) / 60.0)))


class MicrophoneSource:
    """Mono s16 PCM pushed by the microphone capture and pulled by each call's audio track."""

    def __init__(self, sample_rate: int = MIC_SAMPLE_RATE) -> None:
        self.sample_rate = sample_rate
        self._lock = threading.Lock()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._level = 0.0

    @property
    def level(self) -> float:
        """Latest microphone level 0..1 (for the level meter)."""
        with self._lock:
            return self._level

    def push(self, pcm_s16_mono: bytes) -> None:
        """Add captured audio (any thread); drops the oldest beyond the buffer limit."""
        level = rms_level(pcm_s16_mono)
        limit = int(self.sample_rate * MIC_MAX_BUFFERED_SECONDS) * 2
        with self._lock:
            self._level = level
            self._chunks.append(pcm_s16_mono)
            self._buffered += len(pcm_s16_mono)
            while self._buffered > limit and self._chunks:
                self._buffered -= len(self._chunks.popleft())

    def pull(self, samples: int) -> bytes:
        """Exactly `samples` mono s16 samples: what was captured, padded with silence."""
        wanted = samples * 2
        out = bytearray()
        with self._lock:
            while self._chunks and len(out) < wanted:
                chunk = self._chunks.popleft()
                take = wanted - len(out)
                out += chunk[:take]
                if len(chunk) > take:
                    self._chunks.appendleft(chunk[take:])
                self._buffered -= min(len(chunk), take)
        out += bytes(wanted - len(out))
        return bytes(out)

    def reset_level(self) -> None:
        with self._lock:
            self._level = 0.0
