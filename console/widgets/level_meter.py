"""A horizontal microphone level meter (0..1), green → amber → red."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt, Slot
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

GREEN = QColor("#2e9e44")
AMBER = QColor("#e0a020")
RED = QColor("#d03030")
TRACK = QColor("#2b2f36")
AMBER_FROM = 0.7
RED_FROM = 0.9


class LevelMeter(QWidget):
    """Shows a level 0..1; `set_level` clamps bad values instead of failing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._level = 0.0
        self.setAccessibleName("Microphone level")
        self.setAccessibleDescription("How loud the sergeant's microphone is, 0 to 100 per cent")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(60)

    @property
    def level(self) -> float:
        return self._level

    def sizeHint(self) -> QSize:
        return QSize(120, 12)

    @Slot(float)
    def set_level(self, level: float) -> None:
        """Show `level` (clamped to 0..1; NaN counts as 0)."""
        clamped = 0.0 if math.isnan(level) else min(1.0, max(0.0, float(level)))
        if clamped != self._level:
            self._level = clamped
            self.setToolTip(f"Microphone level {round(clamped * 100)} %")
            self.update()

    def colour(self) -> QColor:
        """The bar colour for the current level."""
        if self._level >= RED_FROM:
            return RED
        if self._level >= AMBER_FROM:
            return AMBER
        return GREEN

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(TRACK)
        painter.drawRoundedRect(rect, 3, 3)
        if self._level > 0:
            filled = QRectF(rect.x(), rect.y(), rect.width() * self._level, rect.height())
            painter.setBrush(self.colour())
            painter.drawRoundedRect(filled, 3, 3)
        painter.end()
