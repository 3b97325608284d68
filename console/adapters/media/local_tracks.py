"""Each call's outgoing aiortc tracks, reading the shared local sources on the media thread."""

from __future__ import annotations

import asyncio
import fractions
import time

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from console.adapters.media.frames import fresh_copy
from console.adapters.media.local_sources import LocalVideoSource, MicrophoneSource

VIDEO_CLOCK_RATE = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
AUDIO_PTIME = 0.020
MAX_SEND_HEIGHT = 720


class _Pacer:
    """Sleeps until the next tick of a fixed rate, without drifting."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._start: float | None = None
        self.ticks = 0

    async def wait(self) -> float:
        """Seconds since the first tick, after waiting for the next tick."""
        now = time.monotonic()
        if self._start is None:
            self._start = now
            return 0.0
        self.ticks += 1
        due = self._start + self.ticks * self.interval
        if due > now:
            await asyncio.sleep(due - now)
        else:
            # Fell behind (a long encode): skip ticks instead of bursting to catch up.
            self.ticks = int((now - self._start) / self.interval)
        return self.ticks * self.interval


class LocalVideoTrack(MediaStreamTrack):
    """The sergeant's picture for one call: camera frame, NO CAMERA card or CAMERA OFF card."""

    kind = "video"

    def __init__(self, source: LocalVideoSource, fps: float = 15.0) -> None:
        super().__init__()
        self._source = source
        self._pacer = _Pacer(1.0 / fps)
        self.enabled = True

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        elapsed = await self._pacer.wait()
        shared = self._source.current_frame() if self.enabled else self._source.camera_off_frame()
        if shared.height > MAX_SEND_HEIGHT:
            # Calls are capped at 720p: VP8 at 1080p cannot hold 30 fps (media.md). Scaling
            # makes a new frame, so no extra copy is needed.
            width = round(shared.width * MAX_SEND_HEIGHT / shared.height / 2) * 2
            frame = shared.reformat(width=width, height=MAX_SEND_HEIGHT, format="yuv420p")
        else:
            frame = fresh_copy(shared)
        frame.pts = int(elapsed * VIDEO_CLOCK_RATE)
        frame.time_base = VIDEO_TIME_BASE
        return frame


class LocalAudioTrack(MediaStreamTrack):
    """The sergeant's microphone for one call (silence while muted or without a microphone)."""

    kind = "audio"

    def __init__(self, source: MicrophoneSource) -> None:
        super().__init__()
        self._source = source
        self._pacer = _Pacer(AUDIO_PTIME)
        self._samples = int(source.sample_rate * AUDIO_PTIME)
        self.muted = False

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        elapsed = await self._pacer.wait()
        pcm = self._source.pull(self._samples)
        if self.muted:
            pcm = bytes(len(pcm))
        frame = av.AudioFrame(format="s16", layout="mono", samples=self._samples)
        frame.planes[0].update(pcm)
        frame.sample_rate = self._source.sample_rate
        frame.pts = round(elapsed * self._source.sample_rate)
        frame.time_base = fractions.Fraction(1, self._source.sample_rate)
        return frame
