"""One two-way call on the media thread: `AiortcCallMedia` implements the `CallMedia` port."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from console.adapters.media.frames import LatestFrame, VideoFrameSink, as_yuv420p, encode_jpeg
from console.adapters.media.ice import prompt_ice_checks
from console.adapters.media.jitter import release_frames_on_marker
from console.adapters.media.local_sources import LocalVideoSource, MicrophoneSource
from console.adapters.media.local_tracks import LocalAudioTrack, LocalVideoTrack
from console.adapters.media.media_thread import MediaThread
from console.adapters.media.quality import QualitySampler
from console.services.media_port import CallQuality, MediaEvent, MediaState
from protocol import IceServer

_log = logging.getLogger(__name__)

ANSWER_TIMEOUT_S = 15.0
CLOSE_TIMEOUT_S = 5.0
STATS_INTERVAL_S = 1.0
# Connected but no remote video for this long counts as "media stopped arriving" (FAILED).
VIDEO_STALL_FAIL_S = 10.0

_CONNECTION_STATES = {
    "connecting": MediaState.CONNECTING,
    "connected": MediaState.CONNECTED,
    "failed": MediaState.FAILED,
    "closed": MediaState.CLOSED,
}
_call_numbers = itertools.count(1)


class InvalidOfferError(ValueError):
    """The device's offer is not SDP this engine can answer (no video, malformed, ...)."""


def check_offer(offer_sdp: str) -> None:
    """Reject an obviously unusable offer before aiortc sees it, with a readable reason."""
    if not offer_sdp.lstrip().startswith("v=0"):
        raise InvalidOfferError("the device's offer is not SDP (it must start with v=0)")
    if "\nm=video " not in offer_sdp.replace("\r\n", "\n"):
        raise InvalidOfferError("the device's offer has no video")


class AudioOutput(Protocol):
    """Where remote audio goes (the speaker). `play` is called on the media thread."""

    def play(self, frame: av.AudioFrame) -> None: ...


def ice_configuration(ice_servers: list[IceServer]) -> RTCConfiguration:
    """Always an explicit list: without one aiortc waits ~5 s on a public STUN server."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in ice_servers
        ]
    )


class AiortcCallMedia:
    """A call's peer connection, outgoing tracks and remote-track consumers.

    Public methods are called on the GUI loop; everything aiortc happens on the media loop.
    Events are delivered on the loop that called `answer()`.
    """

    def __init__(
        self,
        media_thread: MediaThread,
        on_event: Callable[[MediaEvent], None],
        video_source: LocalVideoSource,
        microphone: MicrophoneSource,
        remote_video_sink: VideoFrameSink | None = None,
        audio_output: AudioOutput | None = None,
        video_fps: float = 15.0,
        on_closed: Callable[[AiortcCallMedia], None] | None = None,
    ) -> None:
        self._thread = media_thread
        self._on_closed = on_closed
        self._on_event = on_event
        self._video_source = video_source
        self._microphone = microphone
        self._remote_video_sink = remote_video_sink
        self._audio_output = audio_output
        self._video_fps = video_fps
        self._name = f"call-{next(_call_numbers)}"
        self._caller_loop: asyncio.AbstractEventLoop | None = None
        self._pc: RTCPeerConnection | None = None
        self._video_track: LocalVideoTrack | None = None
        self._audio_track: LocalAudioTrack | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # owned by the media loop
        self._remote_frames = LatestFrame()
        self._quality = CallQuality()
        self._state_lock = threading.Lock()
        self._closing = False
        self._closed_event_sent = False
        self._tearing_down = False  # media thread only: set when we close the connection
        self._camera_enabled = True
        self._mic_muted = False
        self._close_future: asyncio.Future[None] | None = None
        self._answer_started = False

    # ---- GUI-loop API (the CallMedia port) -------------------------------------------------

    async def answer(self, offer_sdp: str, ice_servers: list[IceServer]) -> str:
        """Apply the device's offer; return the answer SDP with every candidate gathered."""
        if self._closing:
            raise RuntimeError("call media is closed")
        if self._answer_started:
            raise RuntimeError("answer() was already called for this call")
        self._answer_started = True
        self._caller_loop = asyncio.get_running_loop()
        return await self._thread.run(
            self._answer_on_media(offer_sdp, ice_servers), timeout_s=ANSWER_TIMEOUT_S
        )

    def quality(self) -> CallQuality:
        return self._quality

    def set_microphone_muted(self, muted: bool) -> None:
        self._mic_muted = muted
        if self._audio_track is not None:
            self._audio_track.muted = muted  # a plain flag read by recv(): no lock needed

    def set_camera_enabled(self, enabled: bool) -> None:
        self._camera_enabled = enabled
        if self._video_track is not None:
            self._video_track.enabled = enabled

    def snapshot_jpeg(self) -> bytes | None:
        frame = self._remote_frames.get()
        return None if frame is None else encode_jpeg(frame)

    @property
    def remote_frame_count(self) -> int:
        """Remote video frames decoded so far (counted on the media thread)."""
        return self._remote_frames.count

    async def close(self) -> None:
        """Hang up. Safe to call twice and concurrently: the second caller awaits the first."""
        if self._caller_loop is None:
            self._caller_loop = asyncio.get_running_loop()
        with self._state_lock:
            first = not self._closing
            self._closing = True
        if first:
            self._close_future = asyncio.wrap_future(self._thread.submit(self._close_on_media()))
        if self._close_future is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._close_future), CLOSE_TIMEOUT_S)
        except TimeoutError:
            _log.warning("%s: closing took longer than %.0f s", self._name, CLOSE_TIMEOUT_S)
        if self._on_closed is not None:
            self._on_closed(self)
        self._emit(MediaEvent(MediaState.CLOSED, "hung up"))

    # ---- media loop ------------------------------------------------------------------------

    async def _answer_on_media(self, offer_sdp: str, ice_servers: list[IceServer]) -> str:
        pc = RTCPeerConnection(ice_configuration(ice_servers))
        self._pc = pc
        pc.on("connectionstatechange", lambda: self._on_connection_state(pc.connectionState))
        pc.on("track", self._on_remote_track)
        try:
            check_offer(offer_sdp)
            try:
                await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            except (ValueError, KeyError, IndexError) as exc:
                raise InvalidOfferError(f"the device's offer SDP is invalid: {exc}") from exc
            # The receivers exist now and have seen no packet: each frame of the officer's video
            # is decoded when its last packet is in, not one frame later (jitter.py).
            for transceiver in pc.getTransceivers():
                if transceiver.kind == "video":
                    release_frames_on_marker(transceiver.receiver)
            # DTLS (we are its client) starts the moment ICE completes, not at the next tick of
            # aioice's check pacing (ice.py).
            prompt_ice_checks(pc)
            self._video_track = LocalVideoTrack(self._video_source, fps=self._video_fps)
            self._video_track.enabled = self._camera_enabled
            self._audio_track = LocalAudioTrack(self._microphone)
            self._audio_track.muted = self._mic_muted
            pc.addTrack(self._video_track)
            pc.addTrack(self._audio_track)
            await pc.setLocalDescription(await pc.createAnswer())
        except BaseException:
            await self._close_on_media()
            raise
        self._spawn(self._poll_stats(pc))
        _log.info("%s: answer ready (%d ICE servers)", self._name, len(ice_servers))
        _log.debug("%s: answer SDP %s", self._name, pc.localDescription.sdp)
        return pc.localDescription.sdp

    def _on_connection_state(self, state: str) -> None:
        _log.info("%s: connection %s", self._name, state)
        media_state = _CONNECTION_STATES.get(state)
        if self._closing or self._tearing_down:
            return  # our own hang-up or failed answer: close() reports CLOSED once, after cleanup
        if media_state is MediaState.CLOSED:
            # Not our doing: the device closed the connection (DTLS close_notify). The call
            # service only reacts to FAILED mid-call, and that is what this is for it.
            self._emit(MediaEvent(MediaState.FAILED, "The officer's device closed the connection."))
        elif media_state is not None:
            self._emit(MediaEvent(media_state, f"connection {state}"))

    def _on_remote_track(self, track: MediaStreamTrack) -> None:
        # Consume in a task of its own, never recv() inside this handler (aiortc #510).
        if track.kind == "video":
            self._spawn(self._consume_video(track))
        else:
            self._spawn(self._consume_audio(track))

    async def _consume_video(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                received = await track.recv()
                if not isinstance(received, av.VideoFrame):
                    continue
                frame = as_yuv420p(received)
                self._remote_frames.put(frame)
                if self._remote_video_sink is not None:
                    try:
                        self._remote_video_sink.offer_frame(frame)
                    except RuntimeError:
                        # The GUI side is gone (app shutting down, feed deleted): keep the call
                        # (and snapshots) alive, stop rendering.
                        _log.warning("%s: video sink failed; no longer rendering", self._name)
                        self._remote_video_sink = None
        except MediaStreamError:
            _log.info("%s: remote video ended", self._name)

    async def _consume_audio(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if self._audio_output is not None and isinstance(frame, av.AudioFrame):
                    self._audio_output.play(frame)
        except MediaStreamError:
            _log.info("%s: remote audio ended", self._name)

    async def _poll_stats(self, pc: RTCPeerConnection) -> None:
        sampler = QualitySampler()
        last_count = 0
        last_progress = time.monotonic()
        stall_reported = False
        while True:
            await asyncio.sleep(STATS_INTERVAL_S)
            try:
                report = await asyncio.wait_for(pc.getStats(), STATS_INTERVAL_S)
            except TimeoutError:
                continue
            now = time.monotonic()
            count = self._remote_frames.count
            frame = self._remote_frames.get()
            self._quality = sampler.sample(
                report,
                now,
                count,
                frame.width if frame else 0,
                frame.height if frame else 0,
            )
            if count != last_count:
                last_count, last_progress, stall_reported = count, now, False
            elif (
                pc.connectionState == "connected"
                and now - last_progress > VIDEO_STALL_FAIL_S
                and not stall_reported
            ):
                stall_reported = True
                self._emit(MediaEvent(MediaState.FAILED, "the officer's video stopped arriving"))

    async def _close_on_media(self) -> None:
        self._tearing_down = True
        tasks = list(self._tasks)
        try:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for track in (self._video_track, self._audio_track):
                if track is not None:
                    track.stop()
            if self._pc is not None:
                with contextlib.suppress(Exception):
                    await self._pc.close()
            _log.info("%s: closed", self._name)

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _emit(self, event: MediaEvent) -> None:
        """Deliver `event` on the caller's loop (thread-safe); CLOSED at most once."""
        with self._state_lock:
            if self._closed_event_sent:
                return
            if event.state is MediaState.CLOSED:
                self._closed_event_sent = True
        loop = self._caller_loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._on_event, event)
        except RuntimeError:  # the caller's loop closed meanwhile: nobody is listening
            _log.debug("%s: dropped %s, caller loop closed", self._name, event.state)
