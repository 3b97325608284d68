"""End to end: the real console window on the embedded default (hub + demo calls), as `make run`.

Starts the embedded hub with demo data and the simulator's demo stream (real WebRTC offers from
simulated officers), signs in through the dialog, and waits until a request appears in the queue
and the chime is requested.
"""

from __future__ import annotations

import asyncio
import gc
import re
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from console.app import ConsoleApp, configure_qt_app
from console.models.queue_model import Column
from console.settings import ConsoleSettings

ARTIFACT_NAME = "e2e_console_start"


def run_on_qasync(coro: Coroutine[Any, Any, None]) -> None:
    loop = qasync.QEventLoop(QApplication.instance())
    try:
        loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.mark.e2e
@pytest.mark.slow
def test_embedded_console_signs_in_and_rings_for_a_demo_call(qapp, tmp_path):
    configure_qt_app(qapp)
    settings = ConsoleSettings(
        hub_url=None,
        data_dir=tmp_path / "data",
        config_dir=tmp_path / "config",
        media_devices=False,
        demo_calls=True,
        idle_lock_seconds=0,
    )

    async def scenario() -> None:
        app = ConsoleApp(settings)
        rung: list[int] = []
        app.chime.chime_requested.connect(lambda: rung.append(1))
        await app.start()
        try:
            assert app.window.isVisible()
            assert app.sign_in_dialog.isVisible()
            assert "demo" in app.window.windowTitle()
            await wait_until(app.hub_ready.is_set, 60, "embedded hub")
            assert app.sign_in_dialog.sign_in_button.isEnabled()
            app.sign_in_dialog.fill("smith", "smith-demo")  # the demo-account button's action
            app.sign_in_dialog.sign_in_button.click()
            await wait_until(lambda: app.session_service.signed_in, 30, "signed in")
            await wait_until(lambda: app.queue_model.rowCount() > 0, 60, "a demo request")
            await wait_until(lambda: rung, 5, "the chime")
            row = [app.queue_model.index(0, c).data() for c in Column]
            assert re.fullmatch(r"(PC|DC|DS|PS) \S.* \d{4}[A-Z]{2}", row[Column.OFFICER])
            assert row[Column.WAIT].count(":") >= 1
            assert app.window.connection_indicator.property("state") == "connected"
            from tests.console.shell.helpers import save_screenshot

            save_screenshot(app.window, ARTIFACT_NAME)
        finally:
            await app.shutdown()
            qapp.removeEventFilter(app.lock_vm)
            app.window.deleteLater()

    run_on_qasync(scenario())
    gc.collect()
