"""The main window: a shell that lays out the panels, menus, status bar and message bar.

Live tab = the queue panel (left) beside the call panel (right); History tab = the history
panel. It knows no services: the composition root hands it finished panels and wires signals.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.widgets.connection_indicator import ConnectionIndicator
from console.widgets.fitting_scroll import FittingScrollArea
from console.widgets.message_bar import MessageBar
from console.widgets.queue_panel import QueuePanel
from console.widgets.shortcuts_dialog import ShortcutsDialog

# The console's own shortcuts; panels may add theirs via `add_shortcut_help`.
SHELL_SHORTCUTS: list[tuple[str, str]] = [
    ("F2", "Answer the oldest waiting request"),
    ("Enter", "Answer the selected request (in the queue)"),
    ("Up / Down", "Move through the queue"),
    ("Ctrl+M", "Mute or unmute the new-request chime"),
    ("Ctrl+1", "Live tab"),
    ("Ctrl+2", "History tab"),
    ("Ctrl+L", "Lock the console now"),
    ("Ctrl+Shift+O", "Sign out"),
    ("Ctrl+Q", "Quit"),
    ("F1", "Show this list of shortcuts"),
]


QUEUE_MIN_WIDTH = 480  # between calls: every column readable
QUEUE_IN_CALL_MIN_WIDTH = 280  # during a call: wait, officer (elided) and warrant
QUEUE_IN_CALL_SHARE = 0.25  # of the Live tab's width, when that is more than the minimum


def placeholder_panel(title: str, text: str) -> QWidget:
    """A clearly labelled stand-in for a panel that is not built yet."""
    panel = QWidget()
    panel.setObjectName("placeholderPanel")
    panel.setAccessibleName(title)
    layout = QVBoxLayout(panel)
    label = QLabel(f"{title}\n\n{text}", panel)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    layout.addWidget(label)
    return panel


class MainWindow(QMainWindow):
    sign_out_requested = Signal()
    lock_requested = Signal()
    quit_requested = Signal()

    def __init__(
        self,
        queue_panel: QueuePanel,
        live_call_panel: QWidget,
        history_panel: QWidget,
        settings: QSettings,
        title_suffix: str = "",
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self._title_base = "Safe Connection — Control room" + (
            f" ({title_suffix})" if title_suffix else ""
        )
        self.setWindowTitle(self._title_base)
        self.setAccessibleName("Safe Connection console")
        self._settings = settings
        self._shortcut_help = list(SHELL_SHORTCUTS)
        self._shortcuts_dialog: ShortcutsDialog | None = None
        self.queue_panel = queue_panel
        self.live_call_panel = live_call_panel
        self.history_panel = history_panel

        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(8, 8, 8, 4)
        self.message_bar = MessageBar(central)
        column.addWidget(self.message_bar)
        self.tabs = QTabWidget(central)
        self.tabs.setObjectName("mainTabs")
        self.tabs.setAccessibleName("Console tabs")
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self.tabs)
        self.splitter.setObjectName("liveSplitter")
        self.splitter.setChildrenCollapsible(False)
        queue_panel.setMinimumWidth(QUEUE_MIN_WIDTH)
        self.splitter.addWidget(queue_panel)
        # The call panel scrolls vertically on a short screen, never sideways: it reports its
        # real minimum width, and the queue narrows during a call to make room (1366 px fits).
        self.live_scroll = FittingScrollArea(live_call_panel, self.splitter)
        self.live_scroll.setObjectName("liveCallScroll")
        self.splitter.addWidget(self.live_scroll)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        # Between calls the queue is the work: it gets the larger share until a call starts.
        self.splitter.setSizes([800, 560])  # until a saved layout is restored
        self._in_call = False
        self._idle_splitter_sizes: list[int] | None = None
        self._idle_splitter_state: QByteArray | None = None
        self.tabs.addTab(self.splitter, "&Live")
        self.history_scroll = QScrollArea(self.tabs)
        self.history_scroll.setObjectName("historyScroll")
        self.history_scroll.setWidgetResizable(True)
        self.history_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.history_scroll.setWidget(history_panel)
        self.tabs.addTab(self.history_scroll, "&History")
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.operator_label = QLabel("Not signed in", self)
        self.operator_label.setObjectName("operatorLabel")
        self.operator_label.setAccessibleName("Signed-in operator")
        self.connection_indicator = ConnectionIndicator(self)
        self.statusBar().addWidget(self.operator_label, 1)
        self.statusBar().addPermanentWidget(self.connection_indicator)

        self._build_menus()
        self._build_shortcuts()
        self.setMinimumSize(1024, 640)
        self.resize(1366, 768)
        self.restore_layout()

    # ------------------------------------------------------------------ building

    def _build_menus(self) -> None:
        console_menu = self.menuBar().addMenu("&Console")
        self.lock_action = QAction("&Lock now", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(self.lock_requested.emit)
        self.sign_out_action = QAction("&Sign out", self)
        self.sign_out_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.sign_out_action.triggered.connect(self.sign_out_requested.emit)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.quit_requested.emit)
        self.mute_action = QAction("&Mute chime", self)
        self.mute_action.setShortcut(QKeySequence("Ctrl+M"))
        self.mute_action.triggered.connect(self.queue_panel.mute_button.toggle)
        for action in (self.mute_action, self.lock_action, self.sign_out_action):
            console_menu.addAction(action)
        console_menu.addSeparator()
        console_menu.addAction(self.quit_action)

        help_menu = self.menuBar().addMenu("&Help")
        self.shortcuts_action = QAction("&Shortcuts", self)
        self.shortcuts_action.setShortcut(QKeySequence("F1"))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(self.shortcuts_action)

    def _build_shortcuts(self) -> None:
        answer_oldest = QShortcut(QKeySequence("F2"), self)
        answer_oldest.setContext(Qt.ShortcutContext.ApplicationShortcut)
        answer_oldest.activated.connect(self.queue_panel.answer_oldest_requested.emit)
        for number, index in (("Ctrl+1", 0), ("Ctrl+2", 1)):
            shortcut = QShortcut(QKeySequence(number), self)
            shortcut.activated.connect(lambda i=index: self.tabs.setCurrentIndex(i))

    # ------------------------------------------------------------------ panels

    def set_live_call_panel(self, panel: QWidget) -> None:
        """Replace the stand-in shown while the call flow loads."""
        old = self.live_scroll.takeWidget()
        self.live_scroll.setWidget(panel)
        self.live_call_panel = panel
        if old is not None:
            old.deleteLater()

    def set_history_panel(self, panel: QWidget) -> None:
        old = self.history_scroll.takeWidget()
        self.history_scroll.setWidget(panel)
        self.history_panel = panel
        if old is not None:
            old.deleteLater()

    @property
    def in_call(self) -> bool:
        return self._in_call

    def set_in_call(self, in_call: bool) -> None:
        """Give the call panel priority while a call is in progress; restore the queue after.

        The queue turns compact and the splitter hands its width to the call, so the live
        video, photo, record and decision all fit a 1366x768 screen without sideways scrolling.
        """
        if in_call == self._in_call:
            return
        self._in_call = in_call
        self.queue_panel.set_compact(in_call)
        if in_call:
            self._idle_splitter_sizes = self.splitter.sizes()
            self._idle_splitter_state = self.splitter.saveState()
            self.queue_panel.setMinimumWidth(QUEUE_IN_CALL_MIN_WIDTH)
            total = sum(self._idle_splitter_sizes)
            queue = max(QUEUE_IN_CALL_MIN_WIDTH, round(total * QUEUE_IN_CALL_SHARE))
            self.splitter.setSizes([queue, max(0, total - queue)])
        else:
            self.queue_panel.setMinimumWidth(QUEUE_MIN_WIDTH)
            if self._idle_splitter_sizes is not None:
                self.splitter.setSizes(self._idle_splitter_sizes)
            self._idle_splitter_sizes = None
            self._idle_splitter_state = None

    # ------------------------------------------------------------------ rendering

    def add_shortcut_help(self, shortcuts: list[tuple[str, str]]) -> None:
        """Panels (call flow, history) add their own keys to Help ▸ Shortcuts."""
        self._shortcut_help.extend(shortcuts)

    def shortcut_help(self) -> list[tuple[str, str]]:
        return list(self._shortcut_help)

    def show_shortcuts(self) -> None:
        if self._shortcuts_dialog is None:
            self._shortcuts_dialog = ShortcutsDialog(self._shortcut_help, self)
        self._shortcuts_dialog.open()

    def set_operator(self, label: str) -> None:
        self.operator_label.setText(f"Signed in: {label}")
        self.setWindowTitle(f"{self._title_base} — {label}")

    def set_waiting_count(self, count: int) -> None:
        self.tabs.setTabText(0, f"&Live ({count})" if count else "&Live")

    def show_message(self, level: str, text: str, hint: str = "") -> None:
        self.message_bar.show_message(level, text, hint)

    def alert(self) -> None:
        """Flash the taskbar entry / raise attention for a new request."""
        QApplication.alert(self, 0)

    # ------------------------------------------------------------------ geometry

    def restore_layout(self) -> None:
        geometry = self._settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = self._settings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        splitter = self._settings.value("window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)

    def save_layout(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/state", self.saveState())
        # Mid-call, remember the split the sergeant had between calls, not the call's squeeze.
        state = self._idle_splitter_state if self._in_call else None
        self._settings.setValue("window/splitter", state or self.splitter.saveState())
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window quits the console; the composition root shuts down in order.
        self.save_layout()
        event.ignore()
        self.quit_requested.emit()
