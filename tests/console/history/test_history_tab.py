"""The History tab's widgets, offscreen, over a view-model with a fake port: rows, filters,
detail with thumbnails, role-dependent controls, export through a non-blocking file dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

from console.domain.history import OutcomeFilter
from console.models.history_model import OUTCOME_KEY_ROLE, Column
from console.models.history_vm import HistoryViewModel
from console.services.history import HistoryService
from console.widgets.history_tab import HistoryTab
from protocol import Role
from tests.console.history.fakes import NOW, FakeHistoryPort, varied_items, wait_until

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"


THEME = Path(__file__).resolve().parents[3] / "resources" / "theme.qss"


def make_tab(
    qtbot, port: FakeHistoryPort, *, themed: bool = False
) -> tuple[HistoryViewModel, HistoryTab]:
    vm = HistoryViewModel(HistoryService(port, clock=lambda: NOW, page_size=50))
    tab = HistoryTab(vm)
    if themed and THEME.exists():
        tab.setStyleSheet(THEME.read_text(encoding="utf-8"))  # the shell sets it app-wide
    qtbot.addWidget(tab)
    tab.resize(1600, 1000)
    tab.show()
    return vm, tab


def choose(combo: QComboBox, data: object) -> None:
    """What a user's pick does: change the index and emit `activated`."""
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not offered"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def green_dominant(colour: QColor) -> bool:
    return colour.green() > 120 and colour.green() > colour.red() + 40


def red_dominant(colour: QColor) -> bool:
    return colour.red() > 150 and colour.red() > colour.green() + 60


def cell_has_pixels(tab: HistoryTab, row: int, column: int, test) -> bool:
    """True when some pixel of the table cell (as rendered) passes `test` — the outcome colour."""
    rect = tab.table.visualRect(tab.table.model().index(row, column))
    image = tab.table.viewport().grab(rect).toImage()
    return any(
        test(image.pixelColor(x, y)) for x in range(image.width()) for y in range(image.height())
    )


async def test_supervisor_sees_rows_figures_detail_and_can_export(qtbot, tmp_path):
    port = FakeHistoryPort(varied_items(120))
    vm, tab = make_tab(qtbot, port, themed=True)
    vm.start()
    await wait_until(lambda: tab.table.model().rowCount() >= 50 and vm.headline is not None)
    assert tab.stats_header.value_text("calls") == "12"
    assert tab.stats_header.value_text("within") == "83 %"
    assert tab.stats_header.value_text("median") == "6.5 s"
    assert tab.export_button.isVisible()
    assert tab.filters.operator_combo.isVisible()
    assert "scroll down for more" in tab.status_label.text()

    tab.table.selectRow(0)
    await wait_until(lambda: len(tab.detail.thumbnail_labels()) == 2)
    await wait_until(
        lambda: all(
            label.pixmap() is not None and not label.pixmap().isNull()
            for label in tab.detail.thumbnail_labels().values()
        )
    )
    assert tab.detail.reference_label.text() == "SC-0001-AB"
    assert tab.detail.outcome_label.text() == "Refused"  # call 1 of varied_items
    assert tab.detail.timeline.count() == 4
    assert "Face matches photo on file" in tab.detail.checklist_label.text()
    assert tab.detail.notes_label.text().startswith("Officer showed warrant card")

    model = tab.table.model()
    # Row 0 is selected (selection colours); look at unselected rows.
    outcomes = {model.data(model.index(r, 0), OUTCOME_KEY_ROLE): r for r in range(10, 0, -1)}
    confirmed_row, refused_row = outcomes["confirmed"], outcomes["refused"]
    assert cell_has_pixels(tab, confirmed_row, Column.OUTCOME, green_dominant)
    assert cell_has_pixels(tab, refused_row, Column.OUTCOME, red_dominant)
    assert not cell_has_pixels(tab, confirmed_row, Column.OUTCOME, red_dominant)

    ARTIFACTS.mkdir(exist_ok=True)
    assert tab.grab().save(str(ARTIFACTS / "history_tab.png"))

    # Scrolling to the end of the table pages in more rows.
    tab.table.scrollToBottom()
    await wait_until(lambda: model.rowCount() >= 100)
    vm.close()


async def test_filters_drive_the_table(qtbot):
    port = FakeHistoryPort(varied_items(60))
    vm, tab = make_tab(qtbot, port)
    vm.start()
    await wait_until(lambda: tab.table.model().rowCount() == 50)
    choose(tab.filters.outcome_combo, OutcomeFilter.REFUSED.value)
    await wait_until(lambda: tab.table.model().rowCount() == 12)
    model = tab.table.model()
    assert {model.data(model.index(r, 0), OUTCOME_KEY_ROLE) for r in range(12)} == {"refused"}
    await wait_until(lambda: tab.filters.operator_combo.count() == 3)  # all + two sergeants
    choose(tab.filters.operator_combo, 2)
    await wait_until(lambda: not vm.model.is_loading)
    assert port.page_calls[-1][0] == {**port.page_calls[-1][0], "operator_id": "2"}
    assert {vm.model.row_at(r).item.operator_id for r in range(model.rowCount())} == {2}
    tab.filters.reference_edit.setText("SC-0006-AB")
    tab.filters.reference_edit.returnPressed.emit()
    await wait_until(lambda: not vm.model.is_loading and model.rowCount() == 1)
    assert model.data(model.index(0, Column.REFERENCE)) == "SC-0006-AB"
    vm.close()


async def test_sergeant_gets_no_sergeant_filter_and_no_export(qtbot):
    port = FakeHistoryPort(varied_items(10), role=Role.SERGEANT)
    vm, tab = make_tab(qtbot, port)
    vm.start()
    await wait_until(lambda: vm.operator is not None and tab.table.model().rowCount() > 0)
    assert not tab.filters.operator_combo.isVisible()
    assert not tab.export_button.isVisible()
    vm.close()


async def test_export_through_the_file_dialog(qtbot, tmp_path):
    port = FakeHistoryPort(varied_items(30))
    vm, tab = make_tab(qtbot, port)
    vm.start()
    await wait_until(lambda: tab.export_button.isVisible())
    tab.export_button.click()
    dialog = tab.export_dialog
    assert isinstance(dialog, QFileDialog)
    assert dialog.isVisible()  # opened with open(): we are still running, not blocked in exec()
    target = tmp_path / "calls.csv"
    dialog.selectFile(str(target))
    dialog.accept()
    await wait_until(lambda: target.exists() and tab.export_progress.format() == "Done")
    assert len(target.read_text().splitlines()) == 31
    assert "Exported 30 calls" in tab.export_label.text()
    assert tab.export_bar.isVisible()
    vm.close()


def test_every_control_has_an_accessible_name(qtbot):
    vm = HistoryViewModel(HistoryService(FakeHistoryPort([]), clock=lambda: NOW))
    tab = HistoryTab(vm)
    qtbot.addWidget(tab)
    interactive = (
        "QComboBox",
        "QPushButton",
        "QLineEdit",
        "QDateTimeEdit",
        "QTableView",
        "QProgressBar",
        "QListWidget",
    )
    unnamed = [
        widget.objectName() or type(widget).__name__
        for widget in tab.findChildren(QWidget)
        if type(widget).__name__ in interactive
        and not widget.accessibleName()
        and not widget.objectName().startswith("qt_")  # Qt's own parts of a composite widget
    ]
    assert unnamed == []


async def test_keyboard_shortcuts_reload_and_search(qtbot):
    port = FakeHistoryPort(varied_items(10))
    vm, tab = make_tab(qtbot, port)
    vm.start()
    await wait_until(lambda: tab.table.model().rowCount() == 10)
    tab.activateWindow()
    tab.table.setFocus()
    await wait_until(lambda: tab.table.hasFocus())
    calls_before = len(port.page_calls)
    qtbot.keyClick(tab.table, Qt.Key.Key_F5)
    await wait_until(lambda: len(port.page_calls) == calls_before + 1 and not vm.model.is_loading)
    qtbot.keyClick(tab.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: tab.filters.reference_edit.hasFocus())
    vm.close()


async def test_at_1366_pixels_the_table_fits_without_scrolling_sideways(qtbot):
    """A laptop-sized control-room screen: all eight columns fit, long names are elided (their
    tooltip has the whole text), and the record beside the table does not scroll sideways."""
    long_name = "DC Alexandra Catherine MONTGOMERY-WHITTINGTON 4321AB"
    items = varied_items(10)
    items[0] = items[0].model_copy(update={"officer": long_name})
    vm, tab = make_tab(qtbot, FakeHistoryPort(items), themed=True)
    tab.resize(1330, 680)  # the tab's share of a 1366x768 window
    vm.start()
    await wait_until(lambda: tab.table.model().rowCount() == 10 and not vm.model.is_loading)
    tab.table.selectRow(0)
    await wait_until(lambda: tab.detail.reference_label.text() == items[0].reference)
    await wait_until(lambda: tab.table.horizontalScrollBar().maximum() == 0)
    header = tab.table.horizontalHeader()
    assert header.sectionViewportPosition(Column.TALK) + header.sectionSize(Column.TALK) <= (
        tab.table.viewport().width()
    )
    officer_width = header.sectionSize(Column.OFFICER)
    assert officer_width >= 120  # the name column is not squeezed to nothing
    assert tab.table.fontMetrics().horizontalAdvance(long_name) > officer_width  # so: elided
    model = tab.table.model()
    assert model.data(model.index(0, Column.OFFICER), Qt.ItemDataRole.ToolTipRole) == long_name
    assert tab.detail.horizontalScrollBar().maximum() == 0
    assert tab.detail.width() < tab.table.width()
    vm.close()
