"""The hub link for the status bar: connected / reconnecting in N s / offline, counting down."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject, QTimer, Signal

from console.domain.connection import LinkState, LinkStatus

NOT_SIGNED_IN = "not signed in"


def status_text(status: LinkStatus, seconds_left: float | None) -> str:
    """The indicator's words for a status (and the seconds left before the next retry)."""
    if status.state == LinkState.CONNECTED:
        return "Connected"
    if status.detail == NOT_SIGNED_IN:
        return "Not signed in"
    if status.state == LinkState.CONNECTING:
        return "Connecting…"
    countdown = f" in {math.ceil(seconds_left)} s" if seconds_left and seconds_left > 0 else "…"
    if status.state == LinkState.RECONNECTING:
        return f"Reconnecting{countdown}"
    if status.retry_in is not None:
        return f"Offline — retrying{countdown}"
    return "Offline"


class ConnectionViewModel(QObject):
    """Re-emits `ConnectionService` status as text, ticking the retry countdown once a second."""

    status_changed = Signal(str, str)  # (state, text)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.status = LinkStatus(LinkState.OFFLINE, detail=NOT_SIGNED_IN)
        self._retry_at: float | None = None
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._emit)

    @property
    def text(self) -> str:
        left = None if self._retry_at is None else self._retry_at - time.monotonic()
        return status_text(self.status, left)

    def update_status(self, status: LinkStatus) -> None:
        """Listener for `ConnectionService.add_status_listener`."""
        self.status = status
        if status.retry_in is not None:
            self._retry_at = time.monotonic() + status.retry_in
            self._ticker.start()
        else:
            self._retry_at = None
            self._ticker.stop()
        self._emit()

    def _emit(self) -> None:
        # Before sign-in there is no link to worry about: "idle" is styled calm, not alarm-red.
        state = "idle" if self.status.detail == NOT_SIGNED_IN else self.status.state.value
        self.status_changed.emit(state, self.text)
