"""The History search bar: time range, outcome, sergeant, officer, reference and sort.

Render and forward intent only: each control calls one slot of the History view-model (passed in
duck-typed: importing `console.models.history_vm` would pull `console.services` into the widgets
layer, which the import contract forbids). The bar re-syncs from `query_changed`, so it always
shows the search the table is showing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QDateTime, QSignalBlocker, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from console.domain.history import (
    OUTCOME_FILTER_LABELS,
    SORT_LABELS,
    TIME_RANGE_LABELS,
    HistoryQuery,
    OutcomeFilter,
    SortOrder,
    TimeRange,
)

#: Item data of "All sergeants" / "All officers" (a QVariant cannot hold None reliably).
_ANY = -1

#: Typing in the reference box searches after this pause, not on every key.
REFERENCE_DEBOUNCE_MS = 400

#: The sergeant and officer pickers list everyone on record (a force has hundreds of officers):
#: a taller drop-down means less scrolling; typing a surname's first letters jumps to it.
PICKER_VISIBLE_ITEMS = 20
#: ...and they keep this width (in characters) in the filter bar whatever their longest name, so
#: the reference box beside them stays usable; the open list is as wide as its longest entry.
PICKER_WIDTH_CHARS = 12


def _combo(parent: QWidget, name: str, accessible: str) -> QComboBox:
    combo = QComboBox(parent)
    combo.setObjectName(name)
    combo.setAccessibleName(accessible)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return combo


class HistoryFilters(QWidget):
    """Filter controls bound to a History view-model (`vm`)."""

    def __init__(self, vm: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyFilters")
        self._vm = vm

        self.range_combo = _combo(self, "historyRange", "Time range")
        for preset, label in TIME_RANGE_LABELS.items():
            self.range_combo.addItem(label, preset.value)
        self.from_edit = self._date_edit("historyFrom", "From date and time")
        self.to_edit = self._date_edit("historyTo", "To date and time")
        self.apply_range_button = QPushButton("Apply", self)
        self.apply_range_button.setObjectName("historyApplyRange")
        self.apply_range_button.setAccessibleName("Apply custom time range")

        self.outcome_combo = _combo(self, "historyOutcome", "Outcome")
        for outcome, label in OUTCOME_FILTER_LABELS.items():
            self.outcome_combo.addItem(label, outcome.value)

        self.operator_combo = _combo(self, "historyOperator", "Sergeant")
        self.operator_combo.addItem("All sergeants", _ANY)
        self.officer_combo = _combo(self, "historyOfficer", "Officer")
        self.officer_combo.addItem("All officers", _ANY)
        for picker in (self.operator_combo, self.officer_combo):
            picker.setMaxVisibleItems(PICKER_VISIBLE_ITEMS)
            picker.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            picker.setMinimumContentsLength(PICKER_WIDTH_CHARS)

        self.reference_edit = QLineEdit(self)
        self.reference_edit.setObjectName("historyReference")
        self.reference_edit.setAccessibleName("Reference search")
        self.reference_edit.setPlaceholderText("Reference, e.g. SC-4K7Q-2M")
        self.reference_edit.setClearButtonEnabled(True)
        self.reference_edit.setMaxLength(20)
        self._reference_timer = QTimer(self)
        self._reference_timer.setSingleShot(True)
        self._reference_timer.setInterval(REFERENCE_DEBOUNCE_MS)

        self.sort_combo = _combo(self, "historySort", "Sort order")
        for order, label in SORT_LABELS.items():
            self.sort_combo.addItem(label, order.value)

        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setObjectName("historyRefresh")
        self.refresh_button.setAccessibleName("Refresh history")
        self.refresh_button.setToolTip("Reload the history (F5)")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.range_combo)
        layout.addWidget(self.from_edit)
        self._dash = QLabel("to", self)
        layout.addWidget(self._dash)
        layout.addWidget(self.to_edit)
        layout.addWidget(self.apply_range_button)
        layout.addWidget(self.outcome_combo)
        layout.addWidget(self.operator_combo)
        layout.addWidget(self.officer_combo)
        layout.addWidget(self.reference_edit, 1)
        layout.addWidget(self.sort_combo)
        layout.addWidget(self.refresh_button)

        self.range_combo.activated.connect(self._on_range_chosen)
        self.apply_range_button.clicked.connect(self._apply_custom_range)
        self.outcome_combo.activated.connect(
            lambda _index: vm.set_outcome(OutcomeFilter(self.outcome_combo.currentData()))
        )
        self.operator_combo.activated.connect(
            lambda _index: vm.set_operator(_chosen_id(self.operator_combo))
        )
        self.officer_combo.activated.connect(
            lambda _index: vm.set_officer(_chosen_id(self.officer_combo))
        )
        self.sort_combo.activated.connect(
            lambda _index: vm.set_sort(SortOrder(self.sort_combo.currentData()))
        )
        self.reference_edit.textEdited.connect(lambda _text: self._reference_timer.start())
        self.reference_edit.returnPressed.connect(self._apply_reference)
        self._reference_timer.timeout.connect(self._apply_reference)
        self.refresh_button.clicked.connect(vm.refresh)

        vm.query_changed.connect(self.show_query)
        vm.permissions_changed.connect(self.apply_permissions)
        vm.operators_seen.connect(lambda pairs: self._fill(self.operator_combo, pairs))
        vm.officers_seen.connect(lambda pairs: self._fill(self.officer_combo, pairs))
        self.show_query(vm.query)
        self.apply_permissions(vm.permissions.sees_all_calls, vm.permissions.may_export)

    def _date_edit(self, name: str, accessible: str) -> QDateTimeEdit:
        edit = QDateTimeEdit(QDateTime.currentDateTime(), self)
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd MMM yyyy HH:mm")
        return edit

    # ------------------------------------------------------------------ intents

    def _on_range_chosen(self, _index: int) -> None:
        preset = TimeRange(self.range_combo.currentData())
        if preset is TimeRange.CUSTOM:
            self._set_custom_visible(True)  # the user sets the dates, then Apply
            return
        self._vm.set_time_range(preset)

    def _apply_custom_range(self) -> None:
        start = self.from_edit.dateTime().toPython()
        end = self.to_edit.dateTime().toPython()
        self._vm.set_custom_range(_aware(start), _aware(end))

    def _apply_reference(self) -> None:
        self._reference_timer.stop()
        self._vm.set_reference(self.reference_edit.text())

    # ------------------------------------------------------------------ render

    def show_query(self, query: HistoryQuery) -> None:
        """Show `query` in the controls without re-triggering searches."""
        blockers = [
            QSignalBlocker(widget)
            for widget in (
                self.range_combo,
                self.outcome_combo,
                self.operator_combo,
                self.officer_combo,
                self.sort_combo,
            )
        ]
        _select(self.range_combo, query.time_range.value)
        _select(self.outcome_combo, query.outcome.value)
        _select(self.operator_combo, _ANY if query.operator_id is None else query.operator_id)
        _select(self.officer_combo, _ANY if query.officer_id is None else query.officer_id)
        _select(self.sort_combo, query.sort.value)
        if not self.reference_edit.hasFocus() and self.reference_edit.text() != query.reference:
            self.reference_edit.setText(query.reference)
        custom = query.time_range is TimeRange.CUSTOM
        if custom and query.custom_from is not None:
            self.from_edit.setDateTime(QDateTime(query.custom_from.astimezone()))
        if custom and query.custom_to is not None:
            self.to_edit.setDateTime(QDateTime(query.custom_to.astimezone()))
        self._set_custom_visible(custom)
        del blockers

    def apply_permissions(self, sees_all_calls: bool, _may_export: bool) -> None:
        """Sergeants see only their own calls: the sergeant filter means nothing to them."""
        self.operator_combo.setVisible(sees_all_calls)

    def _set_custom_visible(self, visible: bool) -> None:
        for widget in (self.from_edit, self._dash, self.to_edit, self.apply_range_button):
            widget.setVisible(visible)

    def _fill(self, combo: QComboBox, pairs: list[tuple[int, str]]) -> None:
        """Replace the picker's entries, keeping the current choice (even one the new entries
        lack: the picker must go on naming the filter the table is showing)."""
        current, current_text = combo.currentData(), combo.currentText()
        with QSignalBlocker(combo):
            label = combo.itemText(0)
            combo.clear()
            combo.addItem(label, _ANY)
            for key, text in pairs:
                combo.addItem(text, key)
            if current not in (None, _ANY) and combo.findData(current) < 0:
                combo.addItem(current_text, current)
            _select(combo, current)
        # The open list shows whole names even where the closed picker is narrower.
        view = combo.view()
        scroll_bar = view.verticalScrollBar().sizeHint().width()
        view.setMinimumWidth(view.sizeHintForColumn(0) + scroll_bar)


def _chosen_id(combo: QComboBox) -> int | None:
    data = combo.currentData()
    return None if data is None or data == _ANY else int(data)


def _select(combo: QComboBox, data: object) -> None:
    index = combo.findData(data)
    combo.setCurrentIndex(index if index >= 0 else 0)


def _aware(moment: datetime) -> datetime:
    """QDateTime.toPython() gives naive local time; make it explicit."""
    return moment.astimezone() if moment.tzinfo is None else moment
