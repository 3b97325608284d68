"""Idle lock and claim races, with the real console against a real hub."""

from __future__ import annotations

import asyncio

import httpx
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from console.app import ConsoleApp, configure_qt_app
from console.models.queue_model import Column
from protocol import API_PREFIX
from tests.console.shell.conftest import close_console, shell_settings, sign_in
from tests.console.shell.helpers import save_screenshot, wait_until
from tests.console.shell.hubops import HubOps
from tests.helpers.hub import auth


async def test_idle_lock_asks_for_the_password_again(qapp, hub_server, tmp_path):
    configure_qt_app(qapp)
    app = ConsoleApp(shell_settings(tmp_path, hub_server.url, idle_lock_seconds=0.6))
    await app.start()
    try:
        await sign_in(app)
        # Keyboard input counts as activity (it pushes the lock back)...
        if not app.lock_vm.is_locked:
            before = app.lock_vm._idle.last_activity
            QApplication.sendEvent(
                app.window,
                QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier),
            )
            assert app.lock_vm._idle.last_activity > before
        # ...silence locks it.
        await wait_until(lambda: app.lock_dialog.isVisible(), timeout=30, what="idle lock")
        assert app.lock_vm.is_locked
        assert "PS Smith" in app.lock_dialog.who.text()
        save_screenshot(app.lock_dialog, "lock_dialog")

        app.lock_dialog.reject()  # Escape must not bypass the lock
        assert app.lock_dialog.isVisible()

        app.lock_dialog.password.setText("wrong")
        app.lock_dialog.unlock_button.click()
        await wait_until(lambda: app.lock_dialog.error.isVisible(), what="unlock error")
        assert app.lock_dialog.error.text() == "Wrong password. Try again."
        assert app.lock_vm.is_locked

        old_token = app.hub_http.token
        app.lock_dialog.password.setText("smith-demo")
        app.lock_dialog.unlock_button.click()
        await wait_until(lambda: not app.lock_dialog.isVisible(), what="unlocked")
        assert not app.lock_vm.is_locked
        assert app.session_service.signed_in
        # Unlocking renewed the token and revoked the one it replaced (not left valid to expire).
        new_token = app.hub_http.token
        assert new_token not in (None, old_token)
        async with httpx.AsyncClient(base_url=hub_server.url) as probe:
            old = await probe.get(f"{API_PREFIX}/auth/me", headers=auth(old_token))
            new = await probe.get(f"{API_PREFIX}/auth/me", headers=auth(new_token))
        assert old.status_code == 401
        assert new.status_code == 200
        # The queue kept running behind the lock: the stream is still connected.
        assert app.connection.status.state.value == "connected"
    finally:
        await close_console(app)


async def test_request_taken_by_another_sergeant(console, hub_server):
    ops = HubOps(hub_server.url)
    holding: asyncio.Task[None] | None = None
    try:
        await sign_in(console)
        request_id = await ops.call_in("1001CW")
        await wait_until(
            lambda: console.queue_model.row_of(request_id) is not None, what="request in the queue"
        )
        # PS Jones (another console) claims it first, over HTTP, and keeps it (lease renewals:
        # the test hub's lease is 3 s, after which an unrenewed claim returns to the queue).
        await ops.claim_as("jones", request_id)
        holding = asyncio.get_running_loop().create_task(ops.hold_claim("jones", request_id))
        await wait_until(
            lambda: (
                console.queue_model.entry(console.queue_model.row_of(request_id)).taken_by
                is not None
            ),
            what="taken",
        )
        row = console.queue_model.row_of(request_id)
        assert console.queue_model.index(row, Column.STATUS).data() == "Taken by PS Jones"
        save_screenshot(console.window, "queue_taken_by_jones")

        # Smith presses Answer on it anyway: the message bar says who has it; nothing breaks.
        console.queue_panel.answer_requested.emit(request_id)
        assert console.window.message_bar.isVisible()
        assert console.window.message_bar.text == "Taken by PS Jones."
        assert console.window.message_bar.level == "warning"
        # After the linger the row leaves.
        await wait_until(
            lambda: console.queue_model.row_of(request_id) is None,
            timeout=30,
            what="taken row to leave",
        )
    finally:
        if holding is not None:
            holding.cancel()
        await ops.aclose()


async def test_claim_lost_in_the_race_reaches_the_message_bar(console, hub_server):
    """The row still looks free locally, but the hub says Jones won: the claim's 409 path."""
    ops = HubOps(hub_server.url)
    try:
        await sign_in(console)
        assert console.call_vm is not None, "the call panel must be built"
        request_id = await ops.call_in("1002CW")
        await wait_until(
            lambda: console.queue_model.row_of(request_id) is not None, what="request in the queue"
        )
        await ops.claim_as("jones", request_id)
        await console.call_vm.answer(request_id)  # straight to the claim, before the event
        await wait_until(
            lambda: console.window.message_bar.text == "Taken by PS Jones.",
            what="claim-lost message",
        )
        assert console.call_vm.state.phase.value == "idle"
    finally:
        await ops.aclose()


async def test_queue_fills_from_snapshot_and_events(console, hub_server):
    ops = HubOps(hub_server.url)
    try:
        early = await ops.call_in("1001CW")  # before sign-in: comes from the snapshot
        rung = []
        console.chime.chime_requested.connect(lambda: rung.append(1))
        await sign_in(console)
        await wait_until(lambda: console.queue_model.rowCount() == 1, what="snapshot")
        late = await ops.call_in("1002CW")  # after: comes from the event stream
        await wait_until(lambda: console.queue_model.rowCount() == 2, what="event")
        assert [console.queue_model.entry(r).request_id for r in range(2)] == [early, late]
        assert len(rung) == 2
        assert console.window.tabs.tabText(0) == "&Live (2)"
        warrant = console.queue_model.index(1, Column.WARRANT).data()
        assert warrant == "SUSPENDED"  # 1002CW's warrant is suspended
        await ops.hang_up("1001CW", early)
        await wait_until(lambda: console.queue_model.rowCount() == 1, what="cancelled leaves")

        # Keyboard: F2 answers the oldest; the call panel takes it (or placeholder: no crash).
        answered = []
        console.queue_vm.answer_requested.connect(answered.append)
        console.window.activateWindow()
        console.queue_panel.answer_oldest_requested.emit()
        assert answered == [late]
    finally:
        await ops.aclose()
