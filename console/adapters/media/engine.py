"""`AiortcMediaEngine`: the console's media engine (implements `MediaEngine`).

aiortc runs on its own thread and loop (`MediaThread`) so a GUI stall cannot stall RTP, RTCP or
ICE consent. The sergeant's camera, microphone and speaker are opened once per app (QtMultimedia,
GUI thread) when present; without them the engine sends the NO CAMERA card and silence and
says so in `local_status()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from console.adapters.media.call import AiortcCallMedia, AudioOutput
from console.adapters.media.card import CardStyle
from console.adapters.media.frames import VideoFrameSink
from console.adapters.media.local_sources import (
    LocalMediaStatus,
    LocalVideoSource,
    MicrophoneSource,
)
from console.adapters.media.media_thread import MediaThread
from console.services.media_port import MediaEvent

if TYPE_CHECKING:
    from console.adapters.media.qt_devices import QtDevices

_log = logging.getLogger(__name__)

SELF_VIEW_CARD_INTERVAL_S = 0.5
SHUTDOWN_TIMEOUT_S = 5.0


class AiortcMediaEngine:
    """Owns the media thread, the local devices and every call's media.

    `remote_video_sink` receives the officer's decoded frames (the big video); `self_view_sink`
    receives what the sergeant sends (camera or card). Both are called on the media thread and
    must keep only the newest frame (`console.models.video_feed.RemoteVideoFeed` does).
    `use_devices=False` skips QtMultimedia entirely (tests, benchmarks, headless hosts).
    """

    def __init__(
        self,
        remote_video_sink: VideoFrameSink | None = None,
        self_view_sink: VideoFrameSink | None = None,
        *,
        use_devices: bool = True,
        card_style: CardStyle | None = None,
        video_fps: float = 15.0,
    ) -> None:
        self._remote_video_sink = remote_video_sink
        self._self_view_sink = self_view_sink
        self._video_fps = video_fps
        self.video_source = LocalVideoSource(card_style)
        self.microphone = MicrophoneSource()
        self._status = LocalMediaStatus()
        self._status_listeners: list[Callable[[LocalMediaStatus], None]] = []
        self._audio_output: AudioOutput | None = None
        self._devices: QtDevices | None = None
        # Open calls only: a call leaves this set when it closes, so closed calls can be freed
        # while shutdown() still closes any call its owner forgot to close.
        self._calls: set[AiortcCallMedia] = set()
        self._thread = MediaThread()
        self._shut_down = False
        self._self_view_future = self._thread.submit(self._pump_card_self_view())
        if use_devices:
            self._open_devices()
        _log.info("media engine started (devices %s)", "on" if use_devices else "off")

    # ---- MediaEngine port ------------------------------------------------------------------

    def new_call(self, on_event: Callable[[MediaEvent], None]) -> AiortcCallMedia:
        """A new call's media; nothing touches the network until `answer()`."""
        if self._shut_down:
            raise RuntimeError("media engine is shut down")
        call = AiortcCallMedia(
            self._thread,
            on_event,
            self.video_source,
            self.microphone,
            remote_video_sink=self._remote_video_sink,
            audio_output=self._audio_output,
            video_fps=self._video_fps,
            on_closed=self._calls.discard,
        )
        self._calls.add(call)
        return call

    async def shutdown(self) -> None:
        """Close every call, release the devices, stop the media thread. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        try:
            calls = list(self._calls)
            self._calls.clear()
            await asyncio.gather(*(call.close() for call in calls), return_exceptions=True)
        finally:
            self._self_view_future.cancel()
            if self._devices is not None:
                self._devices.close()
            # Joining the thread blocks briefly; run it off the caller's loop.
            await asyncio.to_thread(self._thread.stop, SHUTDOWN_TIMEOUT_S)

    # ---- extras for the UI (additive, not in the port) -------------------------------------

    @property
    def media_thread(self) -> MediaThread:
        return self._thread

    def local_status(self) -> LocalMediaStatus:
        """Camera / microphone / speaker availability and the message to show about them."""
        return self._status

    def add_status_listener(self, listener: Callable[[LocalMediaStatus], None]) -> None:
        """`listener(status)` runs on the GUI thread whenever a device appears or fails."""
        self._status_listeners.append(listener)

    def microphone_level(self) -> float:
        """The microphone's current level 0..1 (0 without a microphone)."""
        return self.microphone.level

    # ---- internals -------------------------------------------------------------------------

    def _open_devices(self) -> None:
        # Imported here so headless use (tests, benchmarks) never loads QtMultimedia.
        from console.adapters.media.qt_devices import QtDevices

        devices = QtDevices(self.video_source, self.microphone, self._self_view_sink)
        self._devices = devices
        self._audio_output = devices.speaker
        devices.status_changed.connect(self._set_status)
        devices.open()

    def _set_status(self, status: LocalMediaStatus) -> None:
        self._status = status
        for listener in list(self._status_listeners):
            listener(status)

    async def _pump_card_self_view(self) -> None:
        """Show the sergeant the card he is sending while no camera is live (media thread)."""
        last = None
        while True:
            if self._self_view_sink is not None and not self.video_source.camera_live:
                frame = self.video_source.current_frame()
                if frame is not last:
                    self._self_view_sink.offer_frame(frame)
                    last = frame
            await asyncio.sleep(SELF_VIEW_CARD_INTERVAL_S)
