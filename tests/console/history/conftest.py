"""History tests run their coroutines on a qasync loop, as the console does: Qt signals, the
model's paging tasks and awaited service calls interleave exactly as in the application."""

from __future__ import annotations

import pytest
import qasync
from PySide6.QtWidgets import QApplication


def _qasync_loop() -> qasync.QEventLoop:
    app = QApplication.instance() or QApplication([])
    return qasync.QEventLoop(app)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item):
    return {"qasync": _qasync_loop}
