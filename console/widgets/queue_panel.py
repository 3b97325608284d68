"""The Live tab's left side: every waiting request, oldest first, with Answer and a mute toggle."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.models.queue_model import REQUEST_ID_ROLE, Column


class UrgencyDelegate(QStyledItemDelegate):
    """Keeps a cell's own colour (amber/red wait, red warrant) on the selected row too.

    Item views paint selected text in the palette's HighlightedText, which would hide exactly
    the urgency a sergeant needs to see on the row he is about to answer.
    """

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().initStyleOption(option, index)
        foreground = index.data(Qt.ItemDataRole.ForegroundRole)
        if isinstance(foreground, QBrush):
            option.palette.setBrush(QPalette.ColorRole.HighlightedText, foreground)


class QueueTable(QTableView):
    """A table whose Enter / Return key asks to answer the selected request."""

    activate_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activate_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class QueuePanel(QWidget):
    """Forwards intent: `answer_requested(id)`, `answer_oldest_requested()`, `mute_toggled`."""

    answer_requested = Signal(int)
    answer_oldest_requested = Signal()
    mute_toggled = Signal(bool)

    def __init__(self, model: QAbstractItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.setAccessibleName("Queue of waiting requests")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        header = QHBoxLayout()
        self.title = QLabel("Waiting: 0", self)
        self.title.setObjectName("heading")
        self.title.setAccessibleName("Number of waiting requests")
        self.mute_button = QPushButton(self)
        self.mute_button.setObjectName("muteButton")
        self.mute_button.setCheckable(True)
        self.mute_button.setAutoDefault(False)
        self.mute_button.toggled.connect(self._mute_changed)
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.mute_button)
        layout.addLayout(header)

        self.empty = QLabel("Nobody is waiting. New requests ring and appear here.", self)
        self.empty.setObjectName("emptyQueue")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)

        self.table = QueueTable(self)
        self.table.setObjectName("queueTable")
        self.table.setAccessibleName("Waiting requests")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header_view = self.table.horizontalHeader()
        header_view.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header_view.setSectionResizeMode(Column.LOCATION, QHeaderView.ResizeMode.Stretch)
        self._delegate = UrgencyDelegate(self.table)
        self.table.setItemDelegate(self._delegate)
        self.table.activate_requested.connect(self._answer_selected)
        self.table.doubleClicked.connect(self._answer_index)
        layout.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.answer_button = QPushButton("&Answer (Enter)", self)
        self.answer_button.setObjectName("primary")
        self.answer_button.setAccessibleName("Answer the selected request")
        self.answer_button.setAutoDefault(False)
        self.answer_button.clicked.connect(self._answer_selected)
        self.oldest_button = QPushButton("Answer &oldest (F2)", self)
        self.oldest_button.setAccessibleName("Answer the oldest waiting request")
        self.oldest_button.setAutoDefault(False)
        self.oldest_button.clicked.connect(self.answer_oldest_requested.emit)
        buttons.addWidget(self.answer_button, 1)
        buttons.addWidget(self.oldest_button, 1)
        layout.addLayout(buttons)

        self._compact = False
        model.rowsInserted.connect(self._select_first_if_none)
        model.modelReset.connect(self._select_first_if_none)
        self.set_muted(False)
        self.set_waiting_count(0)

    @property
    def compact(self) -> bool:
        return self._compact

    def set_compact(self, compact: bool) -> None:
        """Narrow form while a call is in progress: wait, officer and warrant only.

        The call needs the width; the sergeant still sees how many wait, for how long, and
        whose warrant is bad. Taken rows stay greyed, so the status column can go too.
        """
        self._compact = compact
        for column in (Column.STATUS, Column.LOCATION):
            self.table.setColumnHidden(column, compact)
        header_view = self.table.horizontalHeader()
        # Compact: the officer column takes what is left and long names are elided.
        header_view.setSectionResizeMode(
            Column.OFFICER,
            QHeaderView.ResizeMode.Stretch if compact else QHeaderView.ResizeMode.ResizeToContents,
        )
        self.answer_button.setText("&Answer" if compact else "&Answer (Enter)")
        self.oldest_button.setText("&Oldest (F2)" if compact else "Answer &oldest (F2)")
        self.updateGeometry()

    def set_waiting_count(self, count: int) -> None:
        self.title.setText(f"Waiting: {count}")
        has_rows = self.table.model().rowCount() > 0
        self.empty.setVisible(not has_rows)
        self.answer_button.setEnabled(count > 0)
        self.oldest_button.setEnabled(count > 0)

    def set_muted(self, muted: bool) -> None:
        self.mute_button.blockSignals(True)
        self.mute_button.setChecked(muted)
        self.mute_button.blockSignals(False)
        self.mute_button.setText("Chime: MUTED" if muted else "Chime: on")
        self.mute_button.setAccessibleName(
            "Chime muted — press to unmute" if muted else "Chime on — press to mute"
        )
        self.mute_button.setProperty("muted", muted)
        self.mute_button.style().unpolish(self.mute_button)
        self.mute_button.style().polish(self.mute_button)

    def selected_request_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        value = rows[0].data(REQUEST_ID_ROLE)
        return int(value) if value is not None else None

    def _answer_selected(self) -> None:
        request_id = self.selected_request_id()
        if request_id is None:
            self.answer_oldest_requested.emit()
        else:
            self.answer_requested.emit(request_id)

    def _answer_index(self, index: QModelIndex) -> None:
        value = index.data(REQUEST_ID_ROLE)
        if value is not None:
            self.answer_requested.emit(int(value))

    def _mute_changed(self, muted: bool) -> None:
        self.set_muted(muted)
        self.mute_toggled.emit(muted)

    def _select_first_if_none(self, *_: object) -> None:
        model = self.table.model()
        if model.rowCount() and not self.table.selectionModel().hasSelection():
            self.table.selectionModel().select(
                model.index(0, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.table.setCurrentIndex(model.index(0, 0))
        self.empty.setVisible(model.rowCount() == 0)
