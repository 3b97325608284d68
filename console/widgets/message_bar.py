"""The one message bar: a strip above the tabs showing the latest info, warning or error."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

ICONS = {"info": "\N{INFORMATION SOURCE}", "warning": "⚠", "error": "✖"}
# Info and warnings fade after a while; errors stay until dismissed or replaced.
AUTO_HIDE_MS = {"info": 8000, "warning": 15000}


class MessageBar(QFrame):
    """Call `show_message(level, text, hint)`; the QSS styles it by its `level` property."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setAccessibleName("Message bar")
        self.setProperty("level", "info")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self._icon = QLabel(self)
        self._icon.setObjectName("messageIcon")
        self._text = QLabel(self)
        self._text.setObjectName("messageText")
        self._text.setWordWrap(True)
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._hint = QLabel(self)
        self._hint.setObjectName("messageHint")
        self._hint.setWordWrap(True)
        self._close = QPushButton("Dismiss", self)
        self._close.setAccessibleName("Dismiss message")
        self._close.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._close.clicked.connect(self.dismiss)
        layout.addWidget(self._icon)
        layout.addWidget(self._text, 1)
        layout.addWidget(self._hint)
        layout.addWidget(self._close)
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.timeout.connect(self.dismiss)
        self.hide()

    @property
    def text(self) -> str:
        return self._text.text()

    @property
    def level(self) -> str:
        return str(self.property("level"))

    def show_message(self, level: str, text: str, hint: str = "") -> None:
        self.setProperty("level", level)
        self._icon.setText(ICONS.get(level, ""))
        self._text.setText(text)
        self._hint.setText(hint)
        self._hint.setVisible(bool(hint))
        self.setAccessibleDescription(f"{level}: {text} {hint}".strip())
        # Re-polish so the QSS [level="..."] selector applies to the new value.
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()
        self._hide_timer.stop()
        if level in AUTO_HIDE_MS:
            self._hide_timer.start(AUTO_HIDE_MS[level])

    def dismiss(self) -> None:
        self._hide_timer.stop()
        self.hide()
