"""Synthetic media for the simulated officer's device, and a consumer for received tracks.

`PortraitVideoTrack` sends the officer's own photo on file with a gently bobbing head, a sweeping
bar and a burned-in clock + collar number, so that a sergeant (or a test) can see at a glance that
the picture is live. Everything expensive is done once: the portrait and the background are
converted to YUV420P planes with PyAV at start; each frame is a few numpy slice copies, plus a
Pillow redraw of a small clock strip only when the text changes. `ToneTrack` sends a 440 Hz tone.

`TrackConsumer` reads one remote track in its own task (aiortc #510: never `recv()` inside the
`track` handler), counts frames, measures the first-frame delay and keeps only the newest frame,
because aiortc's receive queue is unbounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import io
import logging
import math
import time
from dataclasses import dataclass, field

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

VIDEO_CLOCK_RATE = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
AUDIO_SAMPLE_RATE = 48_000
AUDIO_PTIME = 0.020
# When the encoder falls this many frame periods behind, skip ahead instead of bursting frames out
# to catch up (aiortc's own VideoStreamTrack bursts, which makes the far end's jitter buffer stall).
MAX_FRAMES_BEHIND = 3

SIZE_480P = (640, 480)
SIZE_720P = (1280, 720)

_BACKGROUND_RGB = (38, 44, 56)  # dark slate: reads as "indoors at night", not as a test card
_BAR_Y = 235  # a bright, near-white luma bar
_BOB_AMPLITUDE_PX = 12
_BOB_PERIOD_S = 2.4
_BAR_PERIOD_S = 3.0


class Pacer:
    """Real-time pacing for a synthetic source: `await tick()` returns the next frame's pts.

    Timestamps follow the wall clock (monotonic) so that the receiver's jitter buffer sees a steady
    clock; a late consumer skips frames rather than receiving a burst.
    """

    def __init__(self, period_s: float, clock_rate: int) -> None:
        self.period_s = period_s
        self.clock_rate = clock_rate
        self._start: float | None = None
        self._index = 0

    async def tick(self) -> int:
        """Sleep until the next frame is due; return its pts in `clock_rate` units."""
        now = time.monotonic()
        if self._start is None:
            self._start = now
            self._index = 0
        else:
            self._index += 1
            due = self._start + self._index * self.period_s
            if now < due:
                await asyncio.sleep(due - now)
            elif now - due > MAX_FRAMES_BEHIND * self.period_s:
                self._index = int((now - self._start) / self.period_s)
        return round(self._index * self.period_s * self.clock_rate)

    @property
    def elapsed_s(self) -> float:
        """Media time of the last frame handed out."""
        return self._index * self.period_s


def _rgb_to_yuv_planes(image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert an RGB image with even sides to (Y, U, V) uint8 planes, BT.601 limited range."""
    frame = av.VideoFrame.from_ndarray(np.asarray(image.convert("RGB")), format="rgb24")
    packed = frame.reformat(format="yuv420p").to_ndarray()  # (h * 3 / 2, w), planes stacked
    height, width = image.height, image.width
    y = packed[:height].copy()
    chroma = packed[height:].reshape(2, height // 2, width // 2)
    return y, chroma[0].copy(), chroma[1].copy()


def placeholder_portrait(width: int = 300, height: int = 380) -> Image.Image:
    """A plain head-and-shoulders silhouette, used when the hub has no photo for the officer."""
    image = Image.new("RGB", (width, height), (120, 128, 140))
    draw = ImageDraw.Draw(image)
    head_r = width // 5
    cx, cy = width // 2, height // 3
    draw.ellipse((cx - head_r, cy - head_r, cx + head_r, cy + head_r), fill=(222, 190, 160))
    draw.rounded_rectangle(
        (width // 8, cy + head_r + 10, width - width // 8, height + 40),
        radius=width // 4,
        fill=(30, 40, 70),
    )
    return image


def load_portrait(photo: bytes | None) -> Image.Image:
    """Decode the photo on file; fall back to a silhouette on anything unreadable."""
    if photo:
        try:
            with Image.open(io.BytesIO(photo)) as image:
                image.load()
                return image.convert("RGB")
        except (OSError, ValueError) as exc:  # Pillow raises OSError for undecodable data
            log.warning("officer photo unreadable (%s); sending a silhouette instead", exc)
    return placeholder_portrait()


def _even(value: int) -> int:
    return max(2, value - value % 2)


class SyntheticVideo:
    """Builds frames of the moving portrait; pure and clock-free so it can be unit-tested."""

    def __init__(
        self,
        portrait: Image.Image,
        caption: str,
        size: tuple[int, int] = SIZE_480P,
    ) -> None:
        self.width, self.height = size
        if self.width % 2 or self.height % 2:
            raise ValueError(f"video size must be even, got {self.width}x{self.height}")
        self.caption = caption
        background = Image.new("RGB", size, _BACKGROUND_RGB)
        self._bg_y, self._bg_u, self._bg_v = _rgb_to_yuv_planes(background)

        # Fit the portrait into ~80 % of the height, leaving room for the bob and the clock strip.
        scale = (self.height * 0.78) / portrait.height
        fitted = portrait.resize(
            (_even(int(portrait.width * scale)), _even(int(portrait.height * scale))),
            Image.Resampling.BILINEAR,
        )
        if fitted.width > self.width - 4:
            fitted = fitted.crop((0, 0, _even(self.width - 4), fitted.height))
        self._pt_y, self._pt_u, self._pt_v = _rgb_to_yuv_planes(fitted)
        self._pt_x = _even((self.width - fitted.width) // 2)
        self._pt_y0 = _even((self.height - fitted.height) // 2)

        self._font_px = max(14, self.height // 24)
        self._font = ImageFont.load_default(size=self._font_px)
        self._strip_h = _even(self._font_px + 10)
        self._strip_w = _even(min(self.width, self._font_px * 20))
        self._strip_text: str | None = None
        self._strip = np.zeros((self._strip_h, self._strip_w), dtype=np.uint8)
        # One buffer, reused: Y rows then U then V, the layout av's yuv420p from_ndarray expects.
        self._buffer = np.empty((self.height * 3 // 2, self.width), dtype=np.uint8)

    def _planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h, w = self.height, self.width
        chroma = self._buffer[h:].reshape(2, h // 2, w // 2)
        return self._buffer[:h], chroma[0], chroma[1]

    def _clock_strip(self, text: str) -> np.ndarray:
        if text != self._strip_text:
            image = Image.new("L", (self._strip_w, self._strip_h), 16)
            ImageDraw.Draw(image).text((6, 4), text, fill=235, font=self._font)
            self._strip = np.asarray(image)
            self._strip_text = text
        return self._strip

    def render(self, t_s: float, wall_clock: float | None = None) -> av.VideoFrame:
        """The frame for media time `t_s` seconds, captioned with the given wall-clock time."""
        y, u, v = self._planes()
        np.copyto(y, self._bg_y)
        np.copyto(u, self._bg_u)
        np.copyto(v, self._bg_v)

        bob = _even(int(_BOB_AMPLITUDE_PX * math.sin(2 * math.pi * t_s / _BOB_PERIOD_S)) + 64) - 64
        top = max(0, min(self.height - self._pt_y.shape[0], self._pt_y0 + bob))
        ph, pw = self._pt_y.shape
        y[top : top + ph, self._pt_x : self._pt_x + pw] = self._pt_y
        cy, cx = top // 2, self._pt_x // 2
        u[cy : cy + ph // 2, cx : cx + pw // 2] = self._pt_u
        v[cy : cy + ph // 2, cx : cx + pw // 2] = self._pt_v

        # A bar sweeping along the bottom edge: motion a viewer notices even on a frozen face.
        bar_w = max(8, self.width // 40)
        phase = (t_s % _BAR_PERIOD_S) / _BAR_PERIOD_S
        bar_x = _even(int(phase * (self.width - bar_w)))
        y[self.height - 12 : self.height - 4, bar_x : bar_x + bar_w] = _BAR_Y

        stamp = time.localtime(wall_clock if wall_clock is not None else time.time())
        tenths = int(((wall_clock if wall_clock is not None else time.time()) % 1) * 10)
        text = f"{time.strftime('%H:%M:%S', stamp)}.{tenths}  {self.caption}"
        strip = self._clock_strip(text)
        sh, sw = strip.shape
        y[8 : 8 + sh, 8 : 8 + sw] = strip
        u[4 : 4 + sh // 2, 4 : 4 + sw // 2] = 128
        v[4 : 4 + sh // 2, 4 : 4 + sw // 2] = 128
        return av.VideoFrame.from_ndarray(self._buffer, format="yuv420p")


class PortraitVideoTrack(MediaStreamTrack):
    """An aiortc video track of the moving portrait at 30 fps."""

    kind = "video"

    def __init__(self, video: SyntheticVideo, fps: float = 30.0) -> None:
        super().__init__()
        self.video = video
        self._pacer = Pacer(1.0 / fps, VIDEO_CLOCK_RATE)
        self.frames_sent = 0

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.tick()
        frame = self.video.render(self._pacer.elapsed_s)
        frame.pts = pts
        frame.time_base = VIDEO_TIME_BASE
        self.frames_sent += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """An aiortc audio track: a quiet sine tone, 48 kHz mono s16 in 20 ms frames."""

    kind = "audio"

    def __init__(self, frequency_hz: float = 440.0, amplitude: float = 0.15) -> None:
        super().__init__()
        self.samples_per_frame = int(AUDIO_SAMPLE_RATE * AUDIO_PTIME)
        self._pacer = Pacer(AUDIO_PTIME, AUDIO_SAMPLE_RATE)
        # A tone whose period divides 20 ms exactly would repeat; precompute one second and slide.
        t = np.arange(AUDIO_SAMPLE_RATE) / AUDIO_SAMPLE_RATE
        self._second = (np.sin(2 * np.pi * frequency_hz * t) * amplitude * 32767).astype(np.int16)
        self.frames_sent = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.tick()
        start = pts % AUDIO_SAMPLE_RATE
        chunk = np.take(self._second, range(start, start + self.samples_per_frame), mode="wrap")
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_SAMPLE_RATE
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, AUDIO_SAMPLE_RATE)
        self.frames_sent += 1
        return frame


@dataclass
class TrackStats:
    """What a `TrackConsumer` observed; read it any time, it is updated in place."""

    kind: str
    frames: int = 0
    first_frame_at: float | None = None  # time.monotonic()
    last_frame_at: float | None = None
    width: int | None = None
    height: int | None = None

    def fps(self) -> float | None:
        """Average frames per second between the first and the last frame."""
        if self.first_frame_at is None or self.last_frame_at is None or self.frames < 2:
            return None
        span = self.last_frame_at - self.first_frame_at
        return (self.frames - 1) / span if span > 0 else None


@dataclass
class TrackConsumer:
    """Reads one remote track in its own task; counts frames and keeps only the newest one."""

    track: MediaStreamTrack
    stats: TrackStats = field(init=False)
    latest: av.VideoFrame | av.AudioFrame | None = field(default=None, init=False)
    ended: bool = field(default=False, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _changed: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def __post_init__(self) -> None:
        self.stats = TrackStats(kind=self.track.kind)

    def start(self) -> None:
        """Begin consuming; the task is owned here and cancelled by `stop()`."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"consume-{self.track.kind}"
            )

    async def _run(self) -> None:
        while True:
            try:
                frame = await self.track.recv()
            except MediaStreamError:
                log.debug(
                    "remote %s track ended after %d frames", self.track.kind, self.stats.frames
                )
                self.ended = True
                self._changed.set()  # wake waiters: no more frames will come
                return
            now = time.monotonic()
            if self.stats.first_frame_at is None:
                self.stats.first_frame_at = now
            self.stats.last_frame_at = now
            self.stats.frames += 1
            if isinstance(frame, av.VideoFrame):
                self.stats.width, self.stats.height = frame.width, frame.height
            if isinstance(frame, av.VideoFrame | av.AudioFrame):
                self.latest = frame  # the only reference we keep: older frames can be freed
            self._changed.set()

    async def wait_for_frames(self, count: int, timeout_s: float) -> bool:
        """Wait until at least `count` frames arrived; False on timeout or when the track ends."""
        deadline = time.monotonic() + timeout_s
        while self.stats.frames < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.ended or (self._task is not None and self._task.done()):
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    async def stop(self) -> None:
        """Cancel the reading task and wait for it to finish."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
