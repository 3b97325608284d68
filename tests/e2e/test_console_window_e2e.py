"""The whole console window end to end, as a sergeant uses it.

A real hub on loopback, the real field simulator as the officer's phone (its own thread and
loop), and the REAL main window built by the composition root (`console.app.ConsoleApp`) with the
real aiortc media engine, offscreen, at 1366x768: sign in through the dialog, answer from the
queue with the keyboard, see the officer's live video painted beside the photo, tick the
checklist, confirm, and find the call in History with the same reference the phone shows.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from console.app import ConsoleApp, configure_qt_app
from console.domain.call import CallPhase
from console.models.queue_model import Column
from console.settings import ConsoleSettings
from field.simulator import FieldDevice
from protocol import Outcome
from tests.helpers.console import (
    mean_luma,
    poll_until,
    run_on_qasync,
    samples,
    share_changed,
    start_device,
)
from tests.helpers.hub import device_token, hub_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
__all__ = ["hub_server"]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SCREEN = (1366, 768)


def queue_row_of(app: ConsoleApp, collar: str) -> int | None:
    model = app.queue_model
    for row in range(model.rowCount()):
        if collar in str(model.index(row, Column.OFFICER).data()):
            return row
    return None


def test_sign_in_answer_see_confirm_and_find_it_in_history(hub_server, qapp, tmp_path):
    configure_qt_app(qapp)
    settings = ConsoleSettings(
        hub_url=hub_server.url,
        demo=True,
        data_dir=tmp_path / "data",
        config_dir=tmp_path / "config",
        media_devices=False,
        idle_lock_seconds=0,
    )
    token = device_token(hub_server, "1001CW")

    async def scenario() -> None:
        app = ConsoleApp(settings)
        device_call = None
        try:
            await app.start()
            window = app.window
            window.resize(*SCREEN)
            await poll_until(app.panels_ready.is_set, "the call and history panels")

            # Sign in through the dialog's own widgets, as the sergeant types.
            dialog = app.sign_in_dialog
            assert dialog.isVisible()
            QTest.keyClicks(dialog.username, "smith")
            QTest.keyClicks(dialog.password, "smith-demo")
            QTest.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
            await poll_until(lambda: app.session_service.signed_in, "signed in")
            await poll_until(lambda: not dialog.isVisible(), "the dialog closed")
            assert "PS Smith" in window.operator_label.text()

            # The officer calls in; the request appears in the queue.
            device = FieldDevice(
                hub_server.url,
                token,
                linger_after_decision_s=30.0,
                media_timeout_s=30.0,
                max_call_s=120.0,
            )
            device_call = start_device(device)
            await poll_until(lambda: queue_row_of(app, "1001CW") is not None, "the request")
            assert not window.in_call

            # Answer it from the keyboard: select the row, press Enter.
            table = app.queue_panel.table
            table.setFocus()
            table.selectRow(queue_row_of(app, "1001CW"))
            QTest.keyClick(table, Qt.Key.Key_Return)
            await poll_until(
                lambda: app.call_vm.state.phase == CallPhase.CONNECTED, "media connected", 30
            )
            panel = window.live_call_panel
            assert "1001CW" in panel.officer_card.name.text()
            assert window.in_call
            assert app.queue_panel.compact

            # The officer's live video is painted in the window: not black, and moving.
            pane = panel.video_pane
            await poll_until(lambda: app.remote_feed.rendered_count >= 10, "remote frames")
            first = samples(pane.live_video.grab().toImage())
            assert mean_luma(first) > 20, "the live video is black"
            seen = app.remote_feed.rendered_count
            await poll_until(lambda: app.remote_feed.rendered_count >= seen + 15, "more frames")
            second = samples(pane.live_video.grab().toImage())
            assert share_changed(first, second) > 0.005, "the live video is frozen"
            assert not pane.photo.pixmap().isNull(), "no photo on file beside the video"
            # No devices here: the sergeant is told his camera is missing (local media wired).
            assert pane.no_camera_label.isVisible()
            assert "NO CAMERA" in pane.no_camera_label.text()

            # 1366x768 mid-call: everything fits, nothing scrolls sideways.
            assert (window.width(), window.height()) == SCREEN
            assert not window.live_scroll.horizontalScrollBar().isVisible()
            assert window.live_scroll.viewport().width() >= panel.minimumSizeHint().width()
            ARTIFACTS.mkdir(exist_ok=True)
            assert window.grab().save(str(ARTIFACTS / "console-window-live.png"))

            # Tick the checklist and confirm.
            decision = panel.decision_panel
            for box in decision.checks.values():
                QTest.mouseClick(box, Qt.MouseButton.LeftButton)
            assert all(box.isChecked() for box in decision.checks.values())
            QTest.mouseClick(decision.confirm_button, Qt.MouseButton.LeftButton)
            await poll_until(lambda: app.call_vm.state.phase == CallPhase.DECIDED, "decided")
            reference = app.call_vm.state.decision.reference
            assert panel.outcome_label.text() == f"CONFIRMED — {reference}"

            # The phone shows the same outcome and reference.
            await poll_until(
                lambda: device.live is not None and device.live.reference == reference,
                "the phone to receive the decision",
            )
            assert device.live.outcome == Outcome.CONFIRMED
            QTest.mouseClick(pane.hangup_button, Qt.MouseButton.LeftButton)
            result = await device_call.wait(60)
            assert result.outcome == Outcome.CONFIRMED
            assert result.reference == reference
            assert result.answered_by == "PS Smith"
            await poll_until(lambda: app.call_vm.state.phase == CallPhase.IDLE, "idle")
            # The officer's last frame is gone: it must never greet the next call.
            assert not pane.live_video.has_frame()
            assert not window.in_call
            assert not app.queue_panel.compact

            # Ctrl+2 opens History (shortcuts need the active window), which lists the call.
            handle = window.windowHandle()
            handle.requestActivate()  # activateWindow() is a no-op offscreen
            await poll_until(lambda: qapp.focusWindow() is handle, "the window active")
            QTest.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
            assert window.tabs.currentWidget() is window.history_scroll
            history = app.history_vm.model
            await poll_until(
                lambda: any(item.reference == reference for item in history.items()),
                "the call in History",
            )
            # Today's figures follow the list: they count the call listed beside them.
            await poll_until(
                lambda: app.history_vm.headline is not None and app.history_vm.headline.calls >= 1,
                "today's figures counting the call",
            )
            assert window.grab().save(str(ARTIFACTS / "console-window-history.png"))
        finally:
            await app.shutdown()
            qapp.removeEventFilter(app.lock_vm)
            app.window.deleteLater()
            if device_call is not None:
                device_call.join()

    run_on_qasync(scenario())
    gc.collect()
