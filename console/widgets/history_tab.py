"""The History tab: today's figures, the search bar, the lazily paged call table, the selected
call's record, and CSV export with a progress bar.

Construct with the History view-model (`HistoryTab(history_vm)`); the shell hosts it and relays
`history_vm.message_posted` to its message bar. The export file dialog is opened with `open()`
(never `exec()` or a static dialog: those re-enter the qasync loop, qasync #59/#82/#174).
Styling hooks: `#historyTab`, `#historyTable`, `#historyStatus`, `#historyExportBar`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QItemSelection, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.domain.history import SortOrder
from console.models.history_model import HEADERS, Column
from console.widgets.history_detail import HistoryDetail
from console.widgets.history_filters import HistoryFilters
from console.widgets.stats_header import StatsHeader

# Starting widths, before the theme's font is known (`fit_columns` then measures the samples).
_COLUMN_WIDTHS = {
    Column.TIME: 150,
    Column.REFERENCE: 120,
    Column.OFFICER: 200,
    Column.SERGEANT: 110,
    Column.OUTCOME: 110,
    Column.REASON: 150,
    Column.WAIT: 60,
    Column.TALK: 80,
}

#: The widest text each fixed-width column typically shows (bold for the outcome is covered by
#: the margin). Longer texts are elided with "…"; every cell's tooltip has the whole text.
_WIDEST_TEXT = {
    Column.TIME: "29 Nov 2026 09:29",
    Column.REFERENCE: "SC-MK4Q-2M",
    Column.SERGEANT: "PS Anderson",
    Column.OUTCOME: "In progress",
    Column.REASON: "Warrant not valid",
    Column.WAIT: "10:00",
    Column.TALK: "10:00",
}

#: The selected call's record beside the table: wide enough for its label/value pairs, narrow
#: enough that all eight columns fit on a 1366-pixel screen. The user can drag the splitter.
_DETAIL_WIDTH = 330
_DETAIL_MIN_WIDTH = 260

#: For Help ▸ Shortcuts (`MainWindow.add_shortcut_help(HISTORY_SHORTCUTS)`). They act only
#: while the History tab has focus.
HISTORY_SHORTCUTS: list[tuple[str, str]] = [
    ("F5", "History: reload the list and today's figures"),
    ("Ctrl+F", "History: search by reference"),
    ("Ctrl+E", "History: export the list as CSV (supervisors)"),
]


class HistoryTab(QWidget):
    """Everything a supervisor needs to review calls; sergeants see their own."""

    def __init__(self, vm: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyTab")
        self.setAccessibleName("History")
        self._vm = vm
        self.export_dialog: QFileDialog | None = None

        self.stats_header = StatsHeader(self)
        self.filters = HistoryFilters(vm, self)

        self.export_button = QPushButton("Export CSV…", self.filters)
        self.export_button.setObjectName("historyExport")
        self.export_button.setAccessibleName("Export the history as CSV")
        self.export_button.setVisible(False)  # until we know the operator may export
        self.filters.layout().addWidget(self.export_button)

        self.table = QTableView(self)
        self.table.setObjectName("historyTable")
        self.table.setAccessibleName("Call history")
        self.table.setModel(vm.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().setVisible(False)
        # Uniform row height lets the view skip measuring rows: a must for very long lists.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        # Long officer names and reasons are cut with "…" (the tooltip has the whole text).
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The officer column absorbs the spare width (or the shortage): the table fits its
        # viewport instead of scrolling sideways on a 1366-pixel screen.
        header.setStretchLastSection(False)
        header.setSectionResizeMode(Column.OFFICER, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        for column, width in _COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._on_header_clicked)

        self.detail = HistoryDetail(vm.detail, self)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("historySplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setChildrenCollapsible(False)
        # A wider window widens the table, not the record.
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.detail.setMinimumWidth(_DETAIL_MIN_WIDTH)
        self.table.setMinimumWidth(480)
        self.splitter.setSizes([1000, _DETAIL_WIDTH])
        self._columns_fitted = False

        self.status_label = QLabel("", self)
        self.status_label.setObjectName("historyStatus")
        self.status_label.setAccessibleName("History status")
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setObjectName("historyRetry")
        self.retry_button.setAccessibleName("Retry loading the history")
        self.retry_button.hide()

        self.export_bar = QWidget(self)
        self.export_bar.setObjectName("historyExportBar")
        self.export_label = QLabel("", self.export_bar)
        self.export_label.setAccessibleName("Export status")
        self.export_progress = QProgressBar(self.export_bar)
        self.export_progress.setObjectName("historyExportProgress")
        self.export_progress.setAccessibleName("Export progress")
        self.export_cancel = QPushButton("Cancel export", self.export_bar)
        self.export_cancel.setObjectName("historyExportCancel")
        self.export_cancel.setAccessibleName("Cancel export")
        export_layout = QHBoxLayout(self.export_bar)
        export_layout.setContentsMargins(0, 0, 0, 0)
        export_layout.addWidget(self.export_label)
        export_layout.addWidget(self.export_progress, 1)
        export_layout.addWidget(self.export_cancel)
        self.export_bar.hide()

        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.retry_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.stats_header)
        layout.addWidget(self.filters)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(status_row)
        layout.addWidget(self.export_bar)

        for keys, action in (
            ("F5", vm.refresh),
            ("Ctrl+F", self._focus_reference),
            ("Ctrl+E", self._export_if_allowed),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(action)

        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.retry_button.clicked.connect(self._on_retry)
        self.export_button.clicked.connect(self.choose_export_file)
        self.export_cancel.clicked.connect(vm.cancel_export)
        vm.headline_changed.connect(self.stats_header.show_figures)
        vm.permissions_changed.connect(self._apply_permissions)
        vm.loading_changed.connect(self._show_loading)
        vm.rows_loaded.connect(self._show_rows_loaded)
        vm.query_changed.connect(self._show_query)
        vm.model.fetch_failed.connect(self._show_failure)
        vm.export_started.connect(self._show_export_started)
        vm.export_progress.connect(self._show_export_progress)
        vm.export_finished.connect(self._show_export_finished)

        self.stats_header.show_figures(vm.headline)
        self._apply_permissions(vm.permissions.sees_all_calls, vm.permissions.may_export)
        self._show_query(vm.query)

    # ------------------------------------------------------------------ intents

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        self._vm.select_row(rows[0].row() if rows else -1)

    def _on_header_clicked(self, section: int) -> None:
        if section != Column.TIME:
            return  # only time order is offered: the hub pages in time order
        newest = self._vm.query.sort is SortOrder.NEWEST
        self._vm.set_sort(SortOrder.OLDEST if newest else SortOrder.NEWEST)

    def _focus_reference(self) -> None:
        self.filters.reference_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filters.reference_edit.selectAll()

    def _export_if_allowed(self) -> None:
        if self.export_button.isVisible() and self.export_button.isEnabled():
            self.choose_export_file()

    def _on_retry(self) -> None:
        self.retry_button.hide()
        self._vm.retry()

    def choose_export_file(self) -> None:
        """Ask where to save, with `open()` (non-blocking); the choice starts the export."""
        if self.export_dialog is not None:
            self.export_dialog.raise_()
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        suggested = (
            Path(folder or ".") / f"safe-connection-history-{datetime.now():%Y%m%d-%H%M}.csv"
        )
        dialog = QFileDialog(self, "Export history as CSV", str(suggested), "CSV files (*.csv)")
        dialog.setObjectName("historyExportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setDefaultSuffix("csv")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(self._vm.export_to)
        dialog.finished.connect(self._forget_export_dialog)
        self.export_dialog = dialog
        dialog.open()

    def _forget_export_dialog(self, _result: int) -> None:
        if self.export_dialog is not None:
            self.export_dialog.deleteLater()
            self.export_dialog = None

    # ------------------------------------------------------------------ render

    def _apply_permissions(self, _sees_all_calls: bool, may_export: bool) -> None:
        self.export_button.setVisible(may_export)

    def _show_query(self, query: Any) -> None:
        order = (
            Qt.SortOrder.DescendingOrder
            if query.sort is SortOrder.NEWEST
            else Qt.SortOrder.AscendingOrder
        )
        self.table.horizontalHeader().setSortIndicator(Column.TIME, order)
        self.retry_button.hide()

    def _show_loading(self, loading: bool) -> None:
        if loading:
            self.status_label.setText("Loading calls…")

    def _show_rows_loaded(self, rows: int, more: bool) -> None:
        if rows and not self._columns_fitted:
            # Size the columns once, when the theme's font is in place; later pages and filter
            # changes keep the widths so the table does not jump under the user.
            self._columns_fitted = True
            self.fit_columns()
        if rows == 0:
            self.status_label.setText("No calls match this search.")
        elif more:
            self.status_label.setText(f"{rows} calls shown; scroll down for more.")
        else:
            self.status_label.setText(f"{rows} call{'s' if rows != 1 else ''}; that is all.")

    def changeEvent(self, event: QEvent) -> None:
        """A new theme or font: size the columns again, once the children have the new font."""
        super().changeEvent(event)
        if self._columns_fitted and event.type() in (
            QEvent.Type.StyleChange,
            QEvent.Type.FontChange,
        ):
            QTimer.singleShot(0, self.fit_columns)

    def fit_columns(self) -> None:
        """Width of each column from its widest typical text in the current font.

        Not `resizeColumnsToContents()`: that asks the model for every role of every loaded
        cell (~4,000 Python calls for one page) and was the largest single cost of opening
        the tab in bench/bench_history.py.
        """
        cells = self.table.fontMetrics()
        heads = self.table.horizontalHeader().fontMetrics()
        padding = 18  # the theme's item padding (8 px a side) and a little air
        header = self.table.horizontalHeader()
        for column, sample in _WIDEST_TEXT.items():
            width = max(
                cells.horizontalAdvance(sample), heads.horizontalAdvance(HEADERS[column]) + 12
            )
            header.resizeSection(column, width + padding)

    def _show_failure(self, error: Any) -> None:
        self.status_label.setText(f"Could not load calls: {error.message}")
        self.retry_button.show()

    def _show_export_started(self, path: str) -> None:
        self.export_label.setText(f"Exporting to {Path(path).name}…")
        self.export_progress.setRange(0, 0)
        self.export_cancel.setEnabled(True)
        self.export_button.setEnabled(False)
        self.export_bar.show()

    def _show_export_progress(self, done: int, total: int) -> None:
        if total < 0:
            self.export_progress.setRange(0, 0)  # the hub could not count: indeterminate
            return
        self.export_progress.setRange(0, max(total, 1))
        self.export_progress.setValue(min(done, max(total, 1)))
        self.export_progress.setFormat(f"{done} / {total} calls")

    def _show_export_finished(self, ok: bool, text: str) -> None:
        self.export_label.setText(text)
        self.export_cancel.setEnabled(False)
        self.export_button.setEnabled(True)
        if ok:
            self.export_progress.setRange(0, 1)
            self.export_progress.setValue(1)
            self.export_progress.setFormat("Done")
