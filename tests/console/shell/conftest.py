"""Shell tests run their coroutines on a qasync loop, as the console does.

With qasync the Qt event loop and asyncio are one loop: widget signals, QTimers and awaited hub
calls interleave exactly as in the application. Waiting is done by `wait_until` (polling a
condition with a deadline), never by sleeping a fixed time.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from console.app import ConsoleApp, configure_qt_app
from console.settings import ConsoleSettings
from hub.server import HubServer
from tests.console.shell.helpers import wait_until
from tests.helpers.hub import hub_server  # noqa: F401 - fixture


def _qasync_loop() -> qasync.QEventLoop:
    app = QApplication.instance() or QApplication([])
    return qasync.QEventLoop(app)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item):
    return {"qasync": _qasync_loop}


@pytest.fixture(autouse=True)
def _qt_objects_die_on_the_gui_thread():
    """Collect each test's garbage here, on the GUI thread. Left to the cyclic GC, a QObject
    with a timer could be freed on a hub or media thread: Qt warns, and may crash."""
    yield
    gc.collect()


def shell_settings(tmp_path: Path, hub_url: str | None, **overrides: object) -> ConsoleSettings:
    """Console settings for tests: tmp dirs, no camera/microphone, short timers."""
    values: dict[str, object] = {
        "hub_url": hub_url,
        "data_dir": tmp_path / "console-data",
        "config_dir": tmp_path / "console-config",
        "media_devices": False,
        "demo_calls": False,
        "idle_lock_seconds": 0.0,
        "taken_linger_seconds": 3.0,
    }
    values.update(overrides)
    return ConsoleSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def console(
    qapp: QApplication,
    hub_server: HubServer,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[ConsoleApp]:
    """A started console (window + sign-in dialog) against a real hub; shut down after."""
    configure_qt_app(qapp)
    app = ConsoleApp(shell_settings(tmp_path, hub_server.url))
    await app.start()
    try:
        yield app
    finally:
        await close_console(app)


async def close_console(app: ConsoleApp) -> None:
    """Shut down, then free the Qt objects on THIS (the GUI) thread: left to the cyclic GC they
    could be collected on a hub or media thread, where Qt refuses to stop their timers."""
    await app.shutdown()
    QApplication.instance().removeEventFilter(app.lock_vm)
    app.window.deleteLater()
    del app
    gc.collect()


async def sign_in(app: ConsoleApp, username: str = "smith", password: str = "smith-demo") -> None:
    """Sign in through the dialog, as a sergeant would, and wait until the queue is live."""
    dialog = app.sign_in_dialog
    dialog.username.setText(username)
    dialog.password.setText(password)
    dialog.sign_in_button.click()
    await wait_until(lambda: app.session_service.signed_in, what="signed in")
    await wait_until(
        lambda: app.connection.status.state.value == "connected", what="event stream connected"
    )
    await wait_until(app.panels_ready.is_set, timeout=30, what="call and history panels")
