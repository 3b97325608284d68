"""`LocalMediaMonitor`: the sergeant's own devices as Qt signals for the video pane.

Polls the microphone level (~15 Hz, cheap: one float read) and re-emits camera status changes,
so the pane can show the mic meter and the NO CAMERA notice. Depends only on a small duck-typed
source (the media engine satisfies it), never on the adapter itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal

MIC_LEVEL_INTERVAL_MS = 66


class LocalStatus(Protocol):
    """What the monitor reads from a status (`console.adapters.media.LocalMediaStatus`)."""

    @property
    def using_card(self) -> bool: ...

    @property
    def camera_message(self) -> str: ...


class LocalMediaSource(Protocol):
    """What the monitor needs from the media engine (`AiortcMediaEngine` provides it)."""

    def microphone_level(self) -> float: ...

    def local_status(self) -> LocalStatus: ...

    def add_status_listener(self, listener: Callable[[LocalStatus], None]) -> None: ...


class LocalMediaMonitor(QObject):
    """Re-emits mic level and camera availability; start() when the pane is shown."""

    mic_level_changed = Signal(float)
    camera_status_changed = Signal(bool, str)  # using the NO CAMERA card, message to show

    def __init__(self, source: LocalMediaSource, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._last_level = -1.0
        self._timer = QTimer(self)
        self._timer.setInterval(MIC_LEVEL_INTERVAL_MS)
        self._timer.timeout.connect(self.poll_level)
        source.add_status_listener(self._on_status)

    def start(self) -> None:
        """Publish the current camera status and start polling the mic level."""
        self._on_status(self._source.local_status())
        self.poll_level()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def poll_level(self) -> None:
        """Emit the mic level when it changed noticeably (keeps repaints down)."""
        level = self._source.microphone_level()
        if abs(level - self._last_level) >= 0.01:
            self._last_level = level
            self.mic_level_changed.emit(level)

    def _on_status(self, status: LocalStatus) -> None:
        self.camera_status_changed.emit(status.using_card, status.camera_message)
