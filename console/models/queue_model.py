"""The queue as Qt sees it: a table model with live wait times, and the queue view-model.

One QTimer for the whole model ticks once a second and repaints only the wait column, so a queue
of fifty requests costs one `dataChanged` per second, not fifty timers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont

from console.domain.queue import QueueEntry, WaitLevel, WaitThresholds, format_wait
from console.models.chime import Chime

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
AnyIndex = QModelIndex | QPersistentModelIndex


def utc_now() -> datetime:
    return datetime.now(UTC)


class Column(IntEnum):
    """Most urgent first: a narrow queue still shows wait, who, warrant and status."""

    WAIT = 0
    OFFICER = 1  # rank, name and collar number: "PC Tom BRADLEY 1004CW"
    WARRANT = 2
    STATUS = 3
    LOCATION = 4


HEADERS = {
    Column.WAIT: "Wait",
    Column.OFFICER: "Officer",
    Column.WARRANT: "Warrant",
    Column.STATUS: "Status",
    Column.LOCATION: "Location",
}

# Colours readable on the dark theme (resources/theme.qss): amber and red text.
WAIT_COLOURS = {WaitLevel.AMBER: QColor("#ffb300"), WaitLevel.RED: QColor("#ff5252")}
WARRANT_BAD = QColor("#ff5252")
WARRANT_OK = QColor("#66bb6a")
TAKEN_COLOUR = QColor("#9e9e9e")

REQUEST_ID_ROLE = Qt.ItemDataRole.UserRole + 1
WAIT_LEVEL_ROLE = Qt.ItemDataRole.UserRole + 2
TAKEN_ROLE = Qt.ItemDataRole.UserRole + 3


class QueueTableModel(QAbstractTableModel):
    """Rows = waiting requests, oldest first. Fed by `QueueService` (it is a `QueueListener`)."""

    def __init__(
        self,
        thresholds: WaitThresholds | None = None,
        clock: Clock = utc_now,
        parent: QObject | None = None,
        tick_ms: int = 1000,
    ) -> None:
        super().__init__(parent)
        self.thresholds = thresholds or WaitThresholds()
        self._clock = clock
        self._rows: list[QueueEntry] = []
        self._ticker = QTimer(self)
        self._ticker.setInterval(tick_ms)
        self._ticker.timeout.connect(self.tick)
        self._ticker.start()
        self._bold = QFont()
        self._bold.setBold(True)

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(Column)
        ):
            return HEADERS[Column(section)]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.checkIndex(index, QAbstractTableModel.CheckIndexOption.IndexIsValid):
            return None
        entry = self._rows[index.row()]
        column = Column(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(entry, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(entry, column)
        if role == Qt.ItemDataRole.FontRole and (
            column == Column.WAIT or (column == Column.WARRANT and not entry.warrant_valid)
        ):
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.WARRANT and not entry.warrant_valid:
                return "Warrant is not valid: do not confirm"
            if column in (Column.LOCATION, Column.OFFICER):
                where = entry.location or "no location given"
                return f"{entry.officer_label} {entry.collar_number} — {where}"
            return None
        if role == REQUEST_ID_ROLE:
            return entry.request_id
        if role == WAIT_LEVEL_ROLE:
            return self.wait_level(entry).value
        if role == TAKEN_ROLE:
            return entry.taken_by
        return None

    # ------------------------------------------------------------------ rendering helpers

    def wait_level(self, entry: QueueEntry) -> WaitLevel:
        return self.thresholds.level(entry.waited_seconds(self._clock()))

    def _text(self, entry: QueueEntry, column: Column) -> str:
        match column:
            case Column.WAIT:
                return format_wait(entry.waited_seconds(self._clock()))
            case Column.OFFICER:
                return f"{entry.officer_label} {entry.collar_number}"
            case Column.LOCATION:
                return entry.location or "not given"
            case Column.WARRANT:
                return entry.warrant_label
            case Column.STATUS:
                return f"Taken by {entry.taken_by}" if entry.taken_by else ""

    def _foreground(self, entry: QueueEntry, column: Column) -> QBrush | None:
        if entry.taken_by:
            return QBrush(TAKEN_COLOUR)
        if column == Column.WAIT:
            colour = WAIT_COLOURS.get(self.wait_level(entry))
            return QBrush(colour) if colour is not None else None
        if column == Column.WARRANT:
            return QBrush(WARRANT_OK if entry.warrant_valid else WARRANT_BAD)
        return None

    # ------------------------------------------------------------------ queries

    def entry(self, row: int) -> QueueEntry:
        return self._rows[row]

    def row_of(self, request_id: int) -> int | None:
        for row, entry in enumerate(self._rows):
            if entry.request_id == request_id:
                return row
        return None

    def oldest_waiting(self) -> QueueEntry | None:
        """The request the 'answer oldest' key takes: the first row nobody has claimed."""
        return next((e for e in self._rows if e.taken_by is None), None)

    def waiting_count(self) -> int:
        return sum(1 for e in self._rows if e.taken_by is None)

    def tick(self) -> None:
        """Repaint the wait column only (text and amber/red colour)."""
        if self._rows:
            self.dataChanged.emit(
                self.index(0, Column.WAIT),
                self.index(len(self._rows) - 1, Column.WAIT),
                [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole],
            )

    # ------------------------------------------------------------------ QueueListener

    def queue_reset(self, entries: list[QueueEntry]) -> None:
        self.beginResetModel()
        self._rows = sorted(entries, key=_order)
        self.endResetModel()

    def entry_added(self, entry: QueueEntry) -> None:
        existing = self.row_of(entry.request_id)
        if existing is not None:
            self.entry_updated(entry)
            return
        key = _order(entry)
        row = next((i for i, e in enumerate(self._rows) if _order(e) > key), len(self._rows))
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, entry)
        self.endInsertRows()

    def entry_updated(self, entry: QueueEntry) -> None:
        row = self.row_of(entry.request_id)
        if row is None:
            self.entry_added(entry)
            return
        if _order(self._rows[row]) != _order(entry):
            self.entry_removed(entry.request_id)
            self.entry_added(entry)
            return
        self._rows[row] = entry
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    def entry_removed(self, request_id: int) -> None:
        row = self.row_of(request_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self.endRemoveRows()


def _order(entry: QueueEntry) -> tuple[datetime, int]:
    return (entry.created_at, entry.request_id)


class QueueViewModel(QObject):
    """What the queue panel binds to: the model, the chime, and the answer intents.

    `answer_requested(int request_id)` is connected by the composition root to the call flow.
    """

    answer_requested = Signal(int)
    waiting_count_changed = Signal(int)
    alert_requested = Signal()
    message_posted = Signal(str, str)

    def __init__(self, model: QueueTableModel, chime: Chime, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.chime = chime
        self._busy = False
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.dataChanged):
            signal.connect(self._emit_count)

    @property
    def busy(self) -> bool:
        """True while a call is in progress: answering another request is refused."""
        return self._busy

    def set_busy(self, busy: bool) -> None:
        self._busy = busy

    def request_answer(self, request_id: int) -> None:
        """The sergeant asked to answer this request (button, Enter, double-click)."""
        row = self.model.row_of(request_id)
        if row is None:
            self.message_posted.emit("warning", "That request is no longer waiting.")
            return
        entry = self.model.entry(row)
        if entry.taken_by:
            self.message_posted.emit("warning", f"Taken by {entry.taken_by}.")
            return
        if self._busy:
            self.message_posted.emit("warning", "Finish the current call before answering another.")
            return
        log.info("answer requested for request %d", request_id)
        self.answer_requested.emit(request_id)

    def answer_oldest(self) -> None:
        """The 'answer the oldest' shortcut."""
        entry = self.model.oldest_waiting()
        if entry is None:
            self.message_posted.emit("info", "Nobody is waiting.")
            return
        self.request_answer(entry.request_id)

    def toggle_mute(self) -> None:
        self.chime.set_muted(not self.chime.muted)

    # ------------------------------------------------------------------ QueueListener

    def queue_reset(self, entries: list[QueueEntry]) -> None:
        if any(e.taken_by is None for e in entries):
            self._announce()

    def entry_added(self, entry: QueueEntry) -> None:
        self._announce()

    def entry_updated(self, entry: QueueEntry) -> None:
        pass

    def entry_removed(self, request_id: int) -> None:
        pass

    def _announce(self) -> None:
        self.chime.ring()
        self.alert_requested.emit()

    def _emit_count(self, *_: object) -> None:
        self.waiting_count_changed.emit(self.model.waiting_count())
