"""Today's headline figures above the History table: calls, share answered within 10 s (the UK 999
standard is 90 %), median answer time, and outcomes.

Renders a `HeadlineFigures` (console/domain/history.py). Styling hooks for the shell's theme.qss:
`#statsHeader`, `QLabel[statRole="value"]`, `QLabel[statRole="caption"]` and the dynamic
property `tone` = good / warn / bad / neutral on each value label (colour is never the only
signal: the number and caption say it too).
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from console.domain.history import HeadlineFigures

#: The 999 answer standard: 90 % of calls answered within 10 seconds.
TARGET_SHARE = 0.9

#: Own stylesheet so the figures stay big and coloured under the shell's theme (whose
#: `QWidget { font-size }` rule would otherwise flatten every label to body size).
_STYLE = """
QLabel[statRole="value"] { font-size: 22pt; font-weight: bold; }
QLabel[statRole="caption"] { font-size: 11pt; color: #aab2bd; }
QLabel[tone="good"] { color: #43a047; }
QLabel[tone="warn"] { color: #fb8c00; }
QLabel[tone="bad"] { color: #e53935; }
"""


class _Tile(QFrame):
    """One figure: a big value over a small caption."""

    def __init__(self, key: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"statTile_{key}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.value = QLabel("—", self)
        self.value.setObjectName(f"statValue_{key}")
        self.value.setProperty("statRole", "value")
        self.caption = QLabel(caption, self)
        self.caption.setProperty("statRole", "caption")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        self.setAccessibleName(caption)
        self.set_value("—", "neutral")

    def set_value(self, text: str, tone: str = "neutral") -> None:
        self.value.setText(text)
        if self.value.property("tone") != tone:
            self.value.setProperty("tone", tone)
            # A dynamic property only restyles after a re-polish.
            self.value.style().unpolish(self.value)
            self.value.style().polish(self.value)
        self.setAccessibleDescription(f"{self.caption.text()}: {text}")

    @property
    def tone(self) -> str:
        return str(self.value.property("tone"))


class StatsHeader(QFrame):
    """A row of tiles with today's figures; `show_figures(None)` shows dashes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statsHeader")
        self.setAccessibleName("Today's figures")
        self.setStyleSheet(_STYLE)
        self.tiles = {
            "calls": _Tile("calls", "Calls today", self),
            "within": _Tile("within", "Answered within 10 s (target 90 %)", self),
            "median": _Tile("median", "Median answer time", self),
            "confirmed": _Tile("confirmed", "Confirmed", self),
            "refused": _Tile("refused", "Refused", self),
            "other": _Tile("other", "Cancelled / expired / failed", self),
        }
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for tile in self.tiles.values():
            layout.addWidget(tile, 1)

    def show_figures(self, figures: HeadlineFigures | None) -> None:
        if figures is None:
            for tile in self.tiles.values():
                tile.set_value("—")
            return
        self.tiles["calls"].set_value(str(figures.calls))
        share = figures.share_within_target
        if share is None:
            self.tiles["within"].set_value("—")
        else:
            tone = "good" if share >= TARGET_SHARE else ("warn" if share >= 0.75 else "bad")
            self.tiles["within"].set_value(f"{share * 100:.0f} %", tone)
        median = figures.median_answer_seconds
        self.tiles["median"].set_value("—" if median is None else f"{median:.1f} s")
        confirmed = figures.by_outcome.get("confirmed", 0)
        refused = figures.by_outcome.get("refused", 0)
        other = sum(
            count
            for key, count in figures.by_outcome.items()
            if key in ("cancelled", "expired", "failed")
        )
        self.tiles["confirmed"].set_value(str(confirmed), "good" if confirmed else "neutral")
        self.tiles["refused"].set_value(str(refused), "bad" if refused else "neutral")
        self.tiles["other"].set_value(str(other))

    def value_text(self, key: str) -> str:
        """The shown text of tile `key` (for tests and accessibility checks)."""
        return self.tiles[key].value.text()
