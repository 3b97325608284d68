"""The main window shell: layout at 1366x768, shortcuts, accessible names, remembered geometry."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QWidget,
)

from console.app import configure_qt_app
from console.domain.connection import LinkState, LinkStatus
from console.models.connection_vm import ConnectionViewModel, status_text
from console.models.message_bus import MessageBus
from console.models.queue_model import QueueTableModel
from console.widgets.main_window import SHELL_SHORTCUTS, MainWindow, placeholder_panel
from console.widgets.queue_panel import QueuePanel
from tests.console.shell.helpers import activate, save_screenshot


def build_window(tmp_path, qtbot):
    model = QueueTableModel()
    panel = QueuePanel(model)
    settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        panel,
        placeholder_panel("Live call", "stand-in"),
        placeholder_panel("History", "stand-in"),
        settings,
    )
    qtbot.addWidget(window)
    return window, settings


def test_fits_1366x768_and_uses_large_type(qapp, qtbot, tmp_path):
    configure_qt_app(qapp)
    window, _ = build_window(tmp_path, qtbot)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366
    assert hint.height() <= 768
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    assert QFont(qapp.font()).pointSizeF() >= 11
    save_screenshot(window, "main_window_empty")


def test_every_control_has_an_accessible_name(qapp, qtbot, tmp_path):
    window, _ = build_window(tmp_path, qtbot)
    controls = [
        w
        for w in window.findChildren(QWidget)
        if isinstance(w, (QAbstractButton, QLineEdit, QAbstractItemView))
        and not isinstance(w, QHeaderView)  # part of its table
        and not w.objectName().startswith("qt_")
    ]
    assert controls
    unnamed = [
        f"{type(w).__name__}:{w.objectName()}"
        for w in controls
        if not w.accessibleName()
        and not (isinstance(w, QAbstractButton) and w.text())
        and w.parent() is not None
        and type(w.parent()).__name__ != "QTabBar"
    ]
    assert unnamed == []


def test_shortcuts_dialog_lists_shell_and_panel_keys(qapp, qtbot, tmp_path):
    window, _ = build_window(tmp_path, qtbot)
    window.add_shortcut_help([("Ctrl+R", "Refuse")])
    window.show_shortcuts()
    dialog = window._shortcuts_dialog
    assert dialog is not None
    assert dialog.isVisible()
    texts = dialog.shortcut_texts()
    assert texts[: len(SHELL_SHORTCUTS)] == SHELL_SHORTCUTS
    assert ("Ctrl+R", "Refuse") in texts
    keys = [k for k, _ in texts]
    assert len(keys) == len(set(keys)), "a key listed twice means two actions clash"
    save_screenshot(dialog, "shortcuts_dialog")
    dialog.done(0)


def test_keyboard_shortcuts_reach_the_queue(qapp, qtbot, tmp_path):
    window, _ = build_window(tmp_path, qtbot)
    window.show()
    qtbot.waitExposed(window)
    activate(qapp, qtbot, window)
    with qtbot.waitSignal(window.queue_panel.answer_oldest_requested, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_F2)
    with qtbot.waitSignal(window.queue_panel.mute_toggled, timeout=10000) as muted:
        window.mute_action.trigger()
    assert muted.args == [True]
    assert window.queue_panel.mute_button.text() == "Chime: MUTED"
    window.tabs.setCurrentIndex(0)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == 1


def test_geometry_is_remembered(qapp, qtbot, tmp_path):
    window, settings = build_window(tmp_path, qtbot)
    window.show()
    available = window.screen().availableGeometry()
    # restoreGeometry keeps a window on its screen; pick a size the test screen can hold.
    width = max(1024, min(1200, available.width() - 40))
    height = max(640, min(700, available.height() - 40))
    window.resize(width, height)
    window.splitter.setSizes([500, width - 500])
    window.save_layout()
    sizes = window.splitter.sizes()
    window.hide()
    again, _ = build_window(tmp_path, qtbot)
    again.show()
    assert (again.width(), again.height()) == (window.width(), window.height())
    assert (again.width(), again.height()) != (1366, 768)  # not just the default size
    assert again.splitter.sizes() == sizes
    assert settings.fileName().startswith(str(tmp_path))
    assert not settings.value("window/geometry").isEmpty()


def test_message_bar_levels_and_auto_hide_rules(qapp, qtbot, tmp_path):
    window, _ = build_window(tmp_path, qtbot)
    window.show()
    bus = MessageBus()
    bus.message_posted.connect(window.show_message)
    bus.error("The hub is not reachable.", "Check the network.")
    bar = window.message_bar
    assert bar.isVisible()
    assert bar.level == "error"
    assert not bar._hide_timer.isActive()  # errors stay until dismissed
    bus.post("nonsense", "x")
    assert bar.level == "error"  # unknown levels shown as errors, never dropped
    bus.info("Signed in.")
    assert bar.level == "info"
    assert bar._hide_timer.isActive()
    bar.dismiss()
    assert not bar.isVisible()


def test_connection_indicator_texts(qapp, qtbot, tmp_path):
    window, _ = build_window(tmp_path, qtbot)
    vm = ConnectionViewModel()
    vm.status_changed.connect(window.connection_indicator.set_status)
    vm.update_status(LinkStatus(LinkState.RECONNECTING, retry_in=4.2, failures=1))
    assert window.connection_indicator.text() == "● Hub: Reconnecting in 5 s"
    assert window.connection_indicator.property("state") == "reconnecting"
    vm.update_status(LinkStatus(LinkState.CONNECTED))
    assert window.connection_indicator.text() == "● Hub: Connected"
    assert status_text(LinkStatus(LinkState.OFFLINE, retry_in=12, failures=3), 11.2) == (
        "Offline — retrying in 12 s"
    )
    assert status_text(LinkStatus(LinkState.OFFLINE), None) == "Offline"


def test_enter_and_double_click_answer_the_selected_row(qapp, qtbot, tmp_path):
    from console.services.queue import entry_from_view
    from tests.console.shell.fakes import request_view

    window, _ = build_window(tmp_path, qtbot)
    model = window.queue_panel.table.model()
    model.queue_reset(
        [
            entry_from_view(request_view(7, age_seconds=30)),
            entry_from_view(request_view(8, age_seconds=5)),
        ]
    )
    panel = window.queue_panel
    panel.set_waiting_count(2)
    window.show()
    qtbot.waitExposed(window)
    panel.table.selectRow(1)
    with qtbot.waitSignal(panel.answer_requested, timeout=10000) as answered:
        qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert answered.args == [8]
    with qtbot.waitSignal(panel.answer_requested, timeout=10000) as answered:
        panel.answer_button.click()
    assert answered.args == [8]
    assert panel.title.text() == "Waiting: 2"
    assert not panel.empty.isVisible()


def test_indicator_is_calm_before_sign_in(qapp, qtbot, tmp_path):
    window, _ = build_window(tmp_path, qtbot)
    vm = ConnectionViewModel()
    vm.status_changed.connect(window.connection_indicator.set_status)
    vm.update_status(LinkStatus(LinkState.OFFLINE, detail="not signed in"))
    assert window.connection_indicator.property("state") == "idle"
    assert window.connection_indicator.text() == "● Hub: Not signed in"
