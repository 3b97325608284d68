"""A scroll area that scrolls vertically only and is never narrower than its content needs."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class FittingScrollArea(QScrollArea):
    """Scrolls vertically only; its minimum width is its content's minimum width.

    A plain QScrollArea reports a small minimum width whatever its content, so a layout may
    squeeze it below what the content needs: with the horizontal bar off the content is then
    clipped at the edge, and with it on the sergeant has to scroll sideways. Reporting the
    content's width lets splitters and the window give it room instead.
    """

    def __init__(self, content: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        if content is not None:
            self.setWidget(content)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        content = self.widget()
        if content is None:
            return hint
        needed = max(content.minimumSizeHint().width(), content.minimumWidth())
        width = needed + self.verticalScrollBar().sizeHint().width()
        return QSize(max(hint.width(), width + 2 * self.frameWidth()), hint.height())
