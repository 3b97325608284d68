"""A red banner that cannot be missed: warrant not valid, not on duty, not authorised, alerts.

The banner paints its own background (not left to the theme) so that no stylesheet can make a
"DO NOT CONFIRM" warning look like ordinary text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

BANNER_RED = QColor(176, 0, 32)


class WarningBanner(QWidget):
    """Shows one line per warning in large white bold type on red; hidden when there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warningBanner")
        self.setAccessibleName("Warnings on the officer's record")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)
        self._label = QLabel(self)
        self._label.setObjectName("warningBannerText")
        self._label.setWordWrap(True)
        self._label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        # Local stylesheet: large white bold type on our own red fill, whatever the theme says.
        self._label.setStyleSheet(
            "color: white; background: transparent; font-size: 16pt; font-weight: bold;"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self._label)
        self._messages: list[str] = []
        self.hide()

    @property
    def messages(self) -> list[str]:
        return list(self._messages)

    def text(self) -> str:
        return self._label.text()

    def set_messages(self, messages: list[str]) -> None:
        self._messages = list(messages)
        self._label.setText("\n".join(self._messages))
        self.setAccessibleDescription("; ".join(self._messages))
        self.setVisible(bool(self._messages))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BANNER_RED)
        painter.end()
