"""Sign-in through the real dialog against a real hub: success and every way it can fail."""

from __future__ import annotations

import httpx

from console.app import ConsoleApp, configure_qt_app
from protocol import API_PREFIX
from tests.console.shell.conftest import close_console, shell_settings, sign_in
from tests.console.shell.helpers import save_screenshot, wait_until


async def attempt(app: ConsoleApp, username: str, password: str) -> str:
    dialog = app.sign_in_dialog
    dialog.error.hide()
    dialog.username.setText(username)
    dialog.password.setText(password)
    dialog.sign_in_button.click()
    await wait_until(
        lambda: dialog.error.isVisible() or app.session_service.signed_in, what="sign-in outcome"
    )
    return dialog.error.text() if dialog.error.isVisible() else ""


async def test_sign_in_succeeds_and_closes_the_dialog(console):
    assert console.sign_in_dialog.isVisible()
    await sign_in(console)
    assert not console.sign_in_dialog.isVisible()
    assert console.window.operator_label.text() == "Signed in: PS Smith"
    assert "Connected" in console.window.connection_indicator.text()


async def test_wrong_password_says_so_and_keeps_the_username(console):
    message = await attempt(console, "smith", "not-my-password")
    assert message == "Wrong username or password. Check Caps Lock and try again."
    assert console.sign_in_dialog.isVisible()
    assert console.sign_in_dialog.username.text() == "smith"
    assert not console.session_service.signed_in
    save_screenshot(console.sign_in_dialog, "sign_in_wrong_password")


async def test_empty_fields_are_caught_before_the_hub(console):
    message = await attempt(console, "", "")
    assert message == "Enter your username and password."


async def test_locked_account_says_who_can_unlock_it(console, hub_server):
    async with httpx.AsyncClient(base_url=hub_server.url + API_PREFIX) as client:
        for _ in range(5):
            response = await client.post(
                "/auth/login", json={"username": "jones", "password": "wrong"}
            )
            assert response.status_code in (401, 423)
    message = await attempt(console, "jones", "jones-demo")
    assert "locked" in message
    assert "supervisor or an administrator" in message
    assert not console.session_service.signed_in


async def test_unreachable_hub_says_what_to_do(qapp, tmp_path):
    configure_qt_app(qapp)
    app = ConsoleApp(shell_settings(tmp_path, "http://127.0.0.1:9"))
    await app.start()
    try:
        message = await attempt(app, "smith", "smith-demo")
        assert message.startswith("Cannot reach the hub at http://127.0.0.1:9.")
        assert "network" in message
        assert "control-room engineer" in message
        save_screenshot(app.sign_in_dialog, "sign_in_unreachable")
    finally:
        await close_console(app)


async def test_session_expiry_asks_to_sign_in_again(console, hub_server):
    await sign_in(console)
    # Revoke the console's own token behind its back, then cut its event stream's connection.
    async with httpx.AsyncClient(base_url=hub_server.url + API_PREFIX) as client:
        response = await client.post("/auth/logout", headers=console.hub_http.auth_headers())
        assert response.is_success
    console.event_stream.forget_position()
    await console.connection.stop()
    console.connection.start()
    await wait_until(lambda: console.sign_in_dialog.isVisible(), what="sign-in shown again")
    assert "session has ended" in console.sign_in_dialog.notice.text()
    assert not console.session_service.signed_in
    assert console.window.message_bar.text == "Your session has ended."
    await sign_in(console)
    assert console.session_service.signed_in


async def test_sign_out_returns_to_the_dialog(console):
    await sign_in(console)
    await console.sign_out()
    assert console.sign_in_dialog.isVisible()
    assert console.hub_http.token is None
    assert console.connection.status.state.value == "offline"
