"""Status-bar indicator of the hub link: a coloured dot and 'Connected' / 'Reconnecting in 3 s'."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


class ConnectionIndicator(QLabel):
    """Styled by its `state` property (idle / connected / connecting / reconnecting / offline)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionIndicator")
        self.setAccessibleName("Hub connection")
        self.set_status("idle", "Not signed in")

    def set_status(self, state: str, text: str) -> None:
        self.setProperty("state", state)
        self.setText(f"● Hub: {text}")
        self.setAccessibleDescription(f"Hub connection: {text}")
        self.setToolTip("Connection to the control-room hub")
        self.style().unpolish(self)
        self.style().polish(self)
