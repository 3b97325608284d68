"""History tests run their coroutines on a qasync loop, as the console does: Qt signals, the
model's paging tasks and awaited service calls interleave exactly as in the application."""

from __future__ import annotations

import gc

import pytest
import qasync
from PySide6.QtWidgets import QApplication


def _qasync_loop() -> qasync.QEventLoop:
    app = QApplication.instance() or QApplication([])
    return qasync.QEventLoop(app)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item):
    return {"qasync": _qasync_loop}


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_gui_thread():
    """After each test (and after qtbot has closed its widgets), collect the widgets' reference
    cycles here, on the GUI thread. Left to chance, Python's cyclic GC may run later in some
    other test's hub server thread and destroy QObjects there ("Timers cannot be stopped from
    another thread")."""
    yield
    gc.collect()
