"""The composition root: args -> settings -> logging -> services -> view-models -> window -> loop.

Everything is built here and nowhere else: ONE httpx.AsyncClient wrapped in ONE HubHttp, the
adapters over it, the Qt-free services, the view-models and the widgets, wired by signals.
qasync runs the GUI and the hub I/O on one loop; the media engine runs on its own thread.

Shutdown is ordered (calls -> media -> event stream -> httpx client -> journal DB -> embedded
hub) and runs from one place, `ConsoleApp.shutdown()`, whichever way the user quits.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import qasync
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from console.adapters.event_stream import HubEventStream
from console.adapters.hub_http import HubHttp
from console.adapters.memory_tuning import tune_allocator
from console.adapters.queue_api import QueueApi
from console.adapters.session_api import SessionApi
from console.crash import CrashFunnel
from console.domain.backoff import Backoff
from console.domain.errors import UserFacingError
from console.domain.queue import WaitThresholds
from console.gui_gc import GuiThreadGarbageCollector
from console.logging_setup import setup_logging
from console.models.chime import Chime
from console.models.connection_vm import ConnectionViewModel
from console.models.lock_vm import LockViewModel
from console.models.message_bus import MessageBus
from console.models.queue_model import QueueTableModel, QueueViewModel
from console.models.session_vm import SessionViewModel
from console.services.connection import ConnectionService
from console.services.queue import QueueService
from console.services.session import SessionService
from console.settings import ConsoleSettings, SettingsError, load_settings
from console.widgets.crash_dialog import CrashDialog
from console.widgets.lock_dialog import LockDialog
from console.widgets.main_window import MainWindow, placeholder_panel
from console.widgets.queue_panel import QueuePanel
from console.widgets.sign_in_dialog import SignInDialog

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
HUB_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
BASE_POINT_SIZE = 11.0


class ConsoleApp:
    """One console: owns every long-lived object and the order they start and stop in."""

    def __init__(
        self,
        settings: ConsoleSettings,
        *,
        log_file: Path | None = None,
        crash_funnel: CrashFunnel | None = None,
    ) -> None:
        self.settings = settings
        self.log_file = log_file or settings.log_dir / "console.log"
        self.crash = crash_funnel
        self.started_at = time.perf_counter()
        self.quit_requested = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._shut_down = False
        self.embedded: Any = None  # console.embedded.EmbeddedHub, imported lazily
        self.hub_ready = asyncio.Event()
        self._crash_dialog: CrashDialog | None = None
        self._expiry_handle: asyncio.TimerHandle | None = None
        self.call_vm: Any = None
        self.history_vm: Any = None
        self.media_engine: Any = None
        self.local_media: Any = None  # console.models.video_local_media.LocalMediaMonitor
        self.journal: Any = None
        self._build()

    # ================================================================== building

    def _build(self) -> None:
        settings = self.settings
        if settings.hub_url is None:
            from console.embedded import EmbeddedHub

            self.embedded = EmbeddedHub(
                settings.data_dir, port=settings.embedded_port, demo_calls=settings.demo_calls
            )
            self.hub_url = self.embedded.url
        else:
            self.hub_url = settings.hub_url.rstrip("/")
            self.hub_ready.set()

        # ONE client and ONE HubHttp for the whole console.
        self.client = httpx.AsyncClient(base_url=self.hub_url, timeout=HUB_TIMEOUT)
        self.hub_http = HubHttp(self.client)

        self.session_service = SessionService(SessionApi(self.hub_http))
        self.queue_service = QueueService(
            QueueApi(self.hub_http), taken_linger_seconds=settings.taken_linger_seconds
        )
        self.event_stream = HubEventStream(
            self.hub_http, backoff=Backoff(initial=0.5, maximum=15.0)
        )
        self.connection = ConnectionService(
            self.event_stream, self.queue_service, self._session_lost
        )

        self.bus = MessageBus()
        self.session_vm = SessionViewModel(
            self.session_service,
            hub_url=self.hub_url,
            demo=settings.demo or self.embedded is not None,
        )
        self.connection_vm = ConnectionViewModel()
        self.connection.add_status_listener(self.connection_vm.update_status)
        self.chime = Chime()
        self.queue_model = QueueTableModel(
            WaitThresholds(settings.wait_amber_seconds, settings.wait_red_seconds)
        )
        self.queue_vm = QueueViewModel(self.queue_model, self.chime)
        self.queue_service.add_listener(self.queue_model)
        self.queue_service.add_listener(self.queue_vm)
        self.bus.connect_source(self.queue_vm)
        self.lock_vm = LockViewModel(self.session_service, settings.idle_lock_seconds or 10**9)

        self.queue_panel = QueuePanel(self.queue_model)
        # The call flow (aiortc, PyAV, QtMultimedia) and History are heavy to import: the shell
        # shows the sign-in dialog first and builds them while the sergeant types.
        live_panel = placeholder_panel("Live call", "Preparing video…")
        history_panel = placeholder_panel("History", "Loading…")
        self.panels_ready = asyncio.Event()
        settings.config_dir.mkdir(parents=True, exist_ok=True)
        self.qsettings = QSettings(
            str(settings.config_dir / "console.ini"), QSettings.Format.IniFormat
        )
        self.window = MainWindow(
            self.queue_panel,
            live_panel,
            history_panel,
            self.qsettings,
            title_suffix="demo" if self.embedded is not None else "",
        )
        self.sign_in_dialog = SignInDialog(self.hub_url, self.session_vm.demo_accounts, self.window)
        self.lock_dialog = LockDialog("", self.window)
        self._wire()

    async def build_panels(self) -> None:
        """Import the heavy modules off the GUI thread, then build and wire the panels."""
        try:
            await asyncio.to_thread(_import_heavy_modules)
            self.window.set_live_call_panel(self._build_call_flow())
            self.window.set_history_panel(self._build_history())
            self._wire_panels()
        finally:
            self.panels_ready.set()
        log.info("panels ready %.2f s after start", time.perf_counter() - self.started_at)

    def _build_call_flow(self) -> QWidget:
        """The call engineer's panel with the media engineer's engine; placeholder if absent."""
        try:
            from console.adapters.call_api import HubCallApi
            from console.adapters.journal import SqliteDecisionJournal
            from console.adapters.media import AiortcMediaEngine
            from console.models.call_vm import CallViewModel
            from console.models.video_feed import RemoteVideoFeed, SelfViewFeed
            from console.models.video_local_media import LocalMediaMonitor
            from console.services.call import CallService
            from console.services.lease import SystemClock
            from console.widgets.live_call_panel import SHORTCUTS, LiveCallPanel
            from console.widgets.video_pane import VideoPane
        except ImportError as exc:
            log.error("call panel unavailable: %s", exc)
            return placeholder_panel(
                "Live call", "The call panel is not available in this build. The queue still works."
            )
        self.remote_feed = RemoteVideoFeed()
        self.self_feed = SelfViewFeed()
        self.media_engine = AiortcMediaEngine(
            self.remote_feed, self.self_feed, use_devices=self.settings.media_devices
        )
        self.journal = SqliteDecisionJournal.in_data_dir(self.settings.data_dir)
        call_service = CallService(
            HubCallApi(self.hub_http), self.media_engine, self.journal, SystemClock()
        )
        self.call_vm = CallViewModel(call_service)
        self.window.add_shortcut_help(SHORTCUTS)
        video_pane = VideoPane(self.remote_feed, self.self_feed)
        # The sergeant's own devices: mic meter and the NO CAMERA notice follow the engine.
        self.local_media = LocalMediaMonitor(self.media_engine)
        video_pane.attach_local_media(self.local_media)
        self.local_media.start()
        # The remote feed is cleared between calls: the last officer never greets the next.
        return LiveCallPanel(self.call_vm, video_pane, self.remote_feed)

    def _build_history(self) -> QWidget:
        try:
            from console.adapters.history_api import HistoryApi
            from console.models.history_vm import HistoryViewModel
            from console.services.history import HistoryService
            from console.widgets.history_tab import HistoryTab
        except ImportError as exc:
            log.error("history tab unavailable: %s", exc)
            return placeholder_panel("History", "The history tab is not available in this build.")
        self.history_vm = HistoryViewModel(HistoryService(HistoryApi(self.hub_http)))
        return HistoryTab(self.history_vm)

    def _wire_panels(self) -> None:
        if self.call_vm is not None:
            self.bus.connect_source(self.call_vm)
            self.call_vm.state_changed.connect(self._call_state_changed)
        if self.history_vm is not None:
            self.bus.connect_source(self.history_vm)
        if self.session_service.signed_in:
            self._start_panels()

    def _call_state_changed(self, state: Any) -> None:
        in_call = state.phase.value != "idle"
        self.queue_vm.set_busy(in_call)
        self.window.set_in_call(in_call)  # the call takes the width; the queue goes compact

    def _wire(self) -> None:
        window, bus = self.window, self.bus
        bus.message_posted.connect(window.show_message)
        self.connection_vm.status_changed.connect(window.connection_indicator.set_status)
        self.queue_vm.waiting_count_changed.connect(window.set_waiting_count)
        self.queue_vm.waiting_count_changed.connect(self.queue_panel.set_waiting_count)
        self.queue_vm.alert_requested.connect(window.alert)
        self.queue_panel.answer_requested.connect(self.queue_vm.request_answer)
        self.queue_panel.answer_oldest_requested.connect(self.queue_vm.answer_oldest)
        self.queue_panel.mute_toggled.connect(self.chime.set_muted)
        self.chime.muted_changed.connect(self.queue_panel.set_muted)

        self.queue_vm.answer_requested.connect(self._answer)
        self.connection.add_event_listener(self._forward_event)

        self.sign_in_dialog.sign_in_requested.connect(lambda u, p: self.spawn(self._sign_in(u, p)))
        self.sign_in_dialog.quit_requested.connect(self.request_quit)
        self.session_vm.busy_changed.connect(self.sign_in_dialog.set_busy)
        self.session_vm.sign_in_failed.connect(self.sign_in_dialog.show_error)
        self.session_vm.signed_in.connect(self._on_signed_in)

        window.quit_requested.connect(self.request_quit)
        window.tabs.currentChanged.connect(self._tab_changed)
        window.sign_out_requested.connect(lambda: self.spawn(self.sign_out()))
        window.lock_requested.connect(self.lock_vm.lock_now)
        self.lock_vm.locked.connect(self._show_lock)
        self.lock_vm.unlocked.connect(self.lock_dialog.accept)
        self.lock_vm.unlocked.connect(self._schedule_expiry)  # unlocking renews the token
        self.lock_vm.unlock_failed.connect(self.lock_dialog.show_error)
        self.lock_dialog.unlock_requested.connect(lambda p: self.spawn(self.lock_vm.unlock(p)))
        self.lock_dialog.sign_out_requested.connect(lambda: self.spawn(self.sign_out()))
        QApplication.instance().installEventFilter(self.lock_vm)  # type: ignore[union-attr]
        if self.crash is not None:
            self.crash.crash_reported.connect(self._show_crash)

    # ================================================================== running

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run `coro` as a task owned by the app (cancelled at shutdown; errors to the funnel)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            task.get_loop().call_exception_handler(
                {"message": f"console task {task.get_name()} failed", "exception": exc}
            )

    async def start(self) -> None:
        """Show the window and the sign-in dialog; start the embedded hub if there is one."""
        self.window.show()
        self.open_sign_in()
        if self.embedded is not None:
            self.sign_in_dialog.sign_in_button.setEnabled(False)
            self.sign_in_dialog.notice.setText("Starting the built-in demo hub…")
            self.sign_in_dialog.notice.show()
            self.spawn(self._start_embedded())
        self.spawn(self.build_panels())
        log.info("console window shown after %.2f s", time.perf_counter() - self.started_at)

    async def _start_embedded(self) -> None:
        from console.embedded import EmbeddedHubError

        try:
            await asyncio.to_thread(self.embedded.start)
        except EmbeddedHubError as exc:
            self._embedded_failed(str(exc))
            return
        except Exception:
            # A boundary: whatever broke inside the hub, say so plainly; details go to the log.
            log.exception("the embedded hub failed to start")
            self._embedded_failed(
                "The built-in demo hub failed to start. See the log, or start the console "
                "with --hub URL to use a real hub."
            )
            return
        self.hub_ready.set()
        self.sign_in_dialog.notice.setText(
            "Demo mode: simulated officers are calling in. Sign in with a demo account."
        )
        self.sign_in_dialog.sign_in_button.setEnabled(True)

    def _embedded_failed(self, message: str) -> None:
        self.sign_in_dialog.notice.setText(message)
        self.sign_in_dialog.notice.show()
        self.sign_in_dialog.adjustSize()
        self.bus.error(message, "Quit and try again, or use a real hub with --hub URL.")

    def open_sign_in(self, notice: str = "") -> None:
        dialog = self.sign_in_dialog
        if notice:
            dialog.notice.setText(notice)
            dialog.notice.show()
        dialog.password.clear()
        dialog.error.hide()
        # open(), never exec(): the qasync loop must keep running behind the dialog.
        dialog.open()
        dialog.username.setFocus()

    async def _sign_in(self, username: str, password: str) -> None:
        await self.hub_ready.wait()
        await self.session_vm.sign_in(username, password)

    def _on_signed_in(self, operator: Any) -> None:
        self.sign_in_dialog.accept()
        self.window.set_operator(self.session_vm.operator_label)
        self.queue_service.my_operator_id = operator.id
        config = self.session_service.hub_config
        if config is not None:
            self.event_stream.heartbeat_seconds = config.heartbeat_seconds
        self.connection.start()
        if self.settings.idle_lock_seconds > 0:
            self.lock_vm.enable()
        if self.panels_ready.is_set():
            self._start_panels()
        self._schedule_expiry()
        self.bus.info(f"Signed in as {self.session_vm.operator_label}.")
        log.info("console usable %.2f s after start", time.perf_counter() - self.started_at)

    def _schedule_expiry(self) -> None:
        """The hub does not close a live stream when the token expires: ask again on time."""
        self._cancel_expiry()
        expires_at = self.session_service.expires_at
        if expires_at is None:
            return
        delay = (expires_at - datetime.now(UTC)).total_seconds()
        self._expiry_handle = asyncio.get_running_loop().call_later(
            max(0.0, delay), lambda: self.spawn(self._session_lost())
        )

    def _cancel_expiry(self) -> None:
        handle, self._expiry_handle = self._expiry_handle, None
        if handle is not None:
            handle.cancel()

    def _start_panels(self) -> None:
        """After sign-in, once the panels exist: load history, resend pending decisions."""
        if self.history_vm is not None:
            self.history_vm.start()
        if self.call_vm is not None:
            self.call_vm.resume_pending_deliveries()

    def _answer(self, request_id: int) -> None:
        """Queue -> call flow. Waits for the call panel if the sergeant was very quick."""

        async def answer_when_ready() -> None:
            await self.panels_ready.wait()
            if self.call_vm is None:
                self.bus.error("Calls cannot be answered: the call panel is not available.")
                return
            self.call_vm.request_answer(request_id)

        if self.call_vm is not None:
            self.call_vm.request_answer(request_id)
        else:
            self.spawn(answer_when_ready())

    def _forward_event(self, event: Any) -> None:
        if self.call_vm is not None:
            self.call_vm.handle_hub_event(event)
        if self.history_vm is not None:
            self.history_vm.handle_hub_event(event)  # a finished call refreshes History

    def _tab_changed(self, index: int) -> None:
        """Opening History shows the latest calls, unless the sergeant is mid-review there."""
        vm = self.history_vm
        if vm is None or self.window.tabs.widget(index) is not self.window.history_scroll:
            return
        if self.session_service.signed_in and vm.detail.selected_id is None and not vm.is_exporting:
            vm.refresh()

    def _call_in_progress(self) -> bool:
        return self.call_vm is not None and self.call_vm.state.phase.holds_claim

    async def sign_out(self) -> None:
        if self._call_in_progress():
            self.bus.warning(
                "Finish the current call before signing out.",
                "Decide, release it to the queue or mark it failed.",
            )
            return
        self._cancel_expiry()
        self.lock_vm.disable()
        self.lock_dialog.accept()
        await self.connection.stop()
        if self.history_vm is not None:
            self.history_vm.close()
        await self.session_vm.sign_out()
        self.window.operator_label.setText("Not signed in")
        self.open_sign_in("You have signed out.")

    async def _session_lost(self) -> None:
        """The hub refused our token (expired or revoked): sign in again."""
        self._cancel_expiry()
        await self.connection.stop()
        await self.session_service.session_expired()
        self.lock_vm.disable()
        self.lock_dialog.accept()
        self.window.operator_label.setText("Not signed in")
        self.bus.warning("Your session has ended.", "Sign in again to keep answering.")
        self.open_sign_in("Your session has ended. Sign in again.")

    def _show_lock(self) -> None:
        self.lock_dialog.set_operator(self.session_vm.operator_label)
        self.lock_dialog.prepare()
        self.lock_dialog.open()

    def _show_crash(self, summary: str, count: int) -> None:
        if self._crash_dialog is None:
            self._crash_dialog = CrashDialog(summary, str(self.log_file), self.window)
            self._crash_dialog.rejected.connect(self.request_quit)
        self._crash_dialog.set_summary(summary, str(self.log_file), count)
        if not self._crash_dialog.isVisible():
            self._crash_dialog.open()

    def request_quit(self) -> None:
        self.quit_requested.set()

    async def run(self) -> int:
        """Start, wait for a quit request, shut down in order. Returns the exit code."""
        await self.start()
        await self.quit_requested.wait()
        await self.shutdown()
        return 0

    async def shutdown(self) -> None:
        """Ordered: calls -> media -> event stream -> httpx client -> journal -> embedded hub."""
        if self._shut_down:
            return
        self._shut_down = True
        log.info("shutting down")
        self.window.save_layout()
        self._cancel_expiry()
        self.lock_vm.disable()
        await self._step("calls", self.call_vm.close() if self.call_vm else None)
        if self.local_media is not None:
            self.local_media.stop()  # stop polling the engine before it goes away
        await self._step("media", self.media_engine.shutdown() if self.media_engine else None)
        await self._step("event stream", self.connection.stop())
        if self.history_vm is not None:
            self.history_vm.close()
        self.queue_service.close()
        if self.session_service.signed_in:
            await self._step("sign-out", self.session_service.sign_out())
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._step("http client", self.client.aclose())
        if self.journal is not None:
            self.journal.close()
        if self.embedded is not None:
            await self._step("embedded hub", asyncio.to_thread(self.embedded.stop))
        for dialog in (self.sign_in_dialog, self.lock_dialog, self._crash_dialog):
            if dialog is not None:
                dialog.done(0)
        self.window.hide()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.lock_vm)
        log.info("shut down cleanly")

    async def _step(self, name: str, awaitable: Awaitable[Any] | None) -> None:
        if awaitable is None:
            return
        try:
            async with asyncio.timeout(15):
                await awaitable
        except (TimeoutError, UserFacingError, httpx.HTTPError) as exc:
            log.warning("shutdown step %s did not finish cleanly: %s", name, type(exc).__name__)

    def emergency_shutdown(self) -> None:
        """Synchronous last resort when Qt quits under us (session logout): stop the hub."""
        if self._shut_down:
            return
        log.warning("Qt is quitting before an ordered shutdown; stopping what we can")
        if self.journal is not None:
            self.journal.close()
        if self.embedded is not None:
            self.embedded.stop()


# ====================================================================== process entry

HEAVY_MODULES = (
    "console.adapters.media",
    "console.models.call_vm",
    "console.widgets.live_call_panel",
    "console.widgets.video_pane",
    "console.widgets.history_tab",
    "console.models.history_vm",
)


def _import_heavy_modules() -> None:
    """Import aiortc/PyAV/QtMultimedia-based modules (about a second) on a worker thread."""
    for name in HEAVY_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            log.error("cannot import %s: %s", name, exc)


def configure_qt_app(app: QApplication) -> None:
    """Name, base font (>= 11 pt) and the dark control-room theme."""
    app.setApplicationName("Safe Connection")
    app.setOrganizationName("Safe Connection")
    app.setDesktopFileName("safe-connection-console")
    app.setQuitOnLastWindowClosed(False)  # quitting always goes through the ordered shutdown
    font = QFont(app.font())
    font.setPointSizeF(max(font.pointSizeF(), BASE_POINT_SIZE) + 1)
    app.setFont(font)
    theme = RESOURCES / "theme.qss"
    if theme.exists():
        app.setStyleSheet(theme.read_text(encoding="utf-8"))


def create_qt_app(argv: Sequence[str]) -> QApplication:
    # Fractional scale factors (125 %, 150 %) render crisply instead of being rounded.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv))
    configure_qt_app(app)
    return app


async def _amain(settings: ConsoleSettings, log_file: Path, crash: CrashFunnel) -> int:
    loop = asyncio.get_running_loop()
    crash.watch_loop(loop)
    console = ConsoleApp(settings, log_file=log_file, crash_funnel=crash)
    app = QApplication.instance()
    assert app is not None
    app.aboutToQuit.connect(console.emergency_shutdown)
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, console.request_quit)
    return await console.run()


def display_problem(environ: Mapping[str, str], platform: str) -> str | None:
    """Qt aborts the process without a display; say what to do instead (Linux only)."""
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "no display found (DISPLAY / WAYLAND_DISPLAY unset). Run it in a desktop session, "
        "or headless with QT_QPA_PLATFORM=offscreen."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `safe-connection-console` and `python main.py`."""
    try:
        settings = load_settings(argv)
    except SettingsError as exc:
        print(f"safe-connection-console: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    problem = display_problem(os.environ, sys.platform)
    if problem:
        print(f"safe-connection-console: {problem}", file=sys.stderr)  # noqa: T201
        return 2
    log_file = setup_logging(settings.log_dir, settings.log_level)
    log.info("starting console (hub: %s)", settings.hub_url or "embedded demo hub")
    # Before Qt and the media engine allocate: video frames get their own mappings instead of
    # fragmenting glibc's heap (10-minute 720p call RSS growth and ~60 MiB less RSS;
    # console/adapters/memory_tuning.py, docs/performance.md). A no-op without glibc.
    tune_allocator()
    create_qt_app(sys.argv[:1])
    crash = CrashFunnel()
    crash.install()
    # Cycles are collected on the GUI thread only: Qt objects must not be freed by the media or
    # hub thread's allocations (console/gui_gc.py).
    collector = GuiThreadGarbageCollector()
    collector.start()
    try:
        # qasync.run picks the right entry point for this Python (qasync #68/#121/#176).
        return int(qasync.run(_amain(settings, log_file, crash)))
    finally:
        collector.stop()
        crash.uninstall()


if __name__ == "__main__":
    sys.exit(main())
