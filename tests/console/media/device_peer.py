"""A stand-in for the officer's device: an aiortc offerer with synthetic moving video and a tone.

It runs on its own `MediaThread`, so the test's own loop and the GUI thread can block (or poll
Qt) without starving the device side. It records what the console sends back.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import time

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from console.adapters.media.frames import LatestFrame
from console.adapters.media.media_thread import MediaThread

VIDEO_RATE = 90_000


class MovingPatternTrack(MediaStreamTrack):
    """Bright diagonal stripes that slide every frame (so consecutive frames differ)."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 360, fps: int = 15) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._index = 0
        self._start: float | None = None
        ys, xs = np.mgrid[0:height, 0:width]
        self._diagonal = (xs + ys).astype(np.int32)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._index / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        shift = self._index * 12
        luma = (((self._diagonal + shift) // 40) % 2 * 160 + 60).astype(np.uint8)
        chroma = np.full((self.height // 2, self.width // 2), 128, dtype=np.uint8)
        planes = np.concatenate([luma.reshape(-1), chroma.reshape(-1), chroma.reshape(-1)])
        frame = av.VideoFrame.from_ndarray(
            planes.reshape(self.height * 3 // 2, self.width), format="yuv420p"
        )
        frame.pts = int(self._index * VIDEO_RATE / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        self._index += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone in 20 ms frames at 48 kHz."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._samples = 960
        self._index = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self._index * 0.02 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (np.arange(self._samples) + self._index * self._samples) / 48_000
        pcm = (np.sin(2 * math.pi * 440 * t) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48_000
        frame.pts = self._index * self._samples
        frame.time_base = fractions.Fraction(1, 48_000)
        self._index += 1
        return frame


class DevicePeer:
    """The device side of a loopback call. Use `offer()`, then `accept(answer)`; `close()`."""

    def __init__(self, width: int = 640, height: int = 360, fps: int = 15) -> None:
        self.thread = MediaThread(name="device")
        self.video = MovingPatternTrack(width, height, fps)
        self.audio = ToneTrack()
        self.received_video = LatestFrame()
        self.received_audio_frames = 0
        self.connection_states: list[str] = []
        self._pc: RTCPeerConnection | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def connection_state(self) -> str:
        return self.connection_states[-1] if self.connection_states else "new"

    async def offer(self) -> str:
        return await self.thread.run(self._offer(), timeout_s=30)

    async def accept(self, answer_sdp: str) -> None:
        await self.thread.run(self._accept(answer_sdp), timeout_s=30)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.thread.run(self._close(), timeout_s=30)
        await asyncio.to_thread(self.thread.stop)

    async def _offer(self) -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._pc = pc
        pc.on("connectionstatechange", lambda: self.connection_states.append(pc.connectionState))
        pc.on("track", self._on_track)
        pc.addTrack(self.video)
        pc.addTrack(self.audio)
        await pc.setLocalDescription(await pc.createOffer())
        return pc.localDescription.sdp

    async def _accept(self, answer_sdp: str) -> None:
        assert self._pc is not None
        await self._pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

    def _on_track(self, track: MediaStreamTrack) -> None:
        task = asyncio.get_running_loop().create_task(self._consume(track))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.received_video.put(frame)
                else:
                    self.received_audio_frames += 1

    async def _close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pc is not None:
            await self._pc.close()
