"""The field page's unhappy paths in real Chromium: each gives a clear message and loses nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Playwright

from hub.server import HubServer
from protocol.schemas import API_PREFIX, RequestState
from tests.browser.conftest import Phone, hub_cli, launch_chromium, new_phone
from tests.browser.field_phone import open_enrolled, wait_for_phase
from tests.helpers.answerer import HeadlessAnswerer
from tests.helpers.hub import auth, device_token, login, test_settings

pytestmark = pytest.mark.browser


def active_request_ids(hub_url: str) -> list[int]:
    token = login(hub_url, "smith", "smith-demo")
    response = httpx.get(
        f"{hub_url}{API_PREFIX}/requests",
        params={"active": "true"},
        headers=auth(token),
        timeout=10,
    )
    response.raise_for_status()
    return [item["id"] for item in response.json()]


async def test_camera_permission_denied_says_so_and_creates_no_request(
    hub_server: HubServer, playwright: Playwright
) -> None:
    browser = await launch_chromium(playwright, allow_camera=False)
    try:
        page = (await new_phone(browser)).page
        await open_enrolled(page, hub_server.url, device_token(hub_server, "1001CW"))
        await page.click("#verify")
        await wait_for_phase(page, "ended-camera-denied")
        assert await page.inner_text("#ended-title") == "Camera blocked"
        detail = await page.inner_text("#ended-detail")
        assert "Camera permission was refused" in detail
        assert "Allow camera" in detail
        assert active_request_ids(hub_server.url) == []
        # The officer can fix the permission and try again from the home screen.
        await page.click("#ended-again")
        await wait_for_phase(page, "home")
        assert await page.is_enabled("#verify")
    finally:
        await browser.close()


async def test_no_camera_says_so(hub_server: HubServer, playwright: Playwright) -> None:
    browser = await launch_chromium(playwright, has_camera=False)
    try:
        page = (await new_phone(browser)).page
        await open_enrolled(page, hub_server.url, device_token(hub_server, "1001CW"))
        await page.click("#verify")
        await wait_for_phase(page, "ended-camera-missing")
        assert await page.inner_text("#ended-title") == "No camera"
        assert await page.inner_text("#ended-detail") == "No camera was found on this device."
        assert active_request_ids(hub_server.url) == []
    finally:
        await browser.close()


async def test_hub_lost_while_queued_shows_a_banner_and_hang_up_still_works(
    tmp_path: Path, phone: Phone
) -> None:
    page = phone.page
    hub = HubServer(test_settings(tmp_path)).start()
    try:
        await open_enrolled(page, hub.url, device_token(hub, "1001CW"))
        await page.click("#verify")
        await wait_for_phase(page, "queued")
    finally:
        hub.stop()
    await page.wait_for_selector("#banner:not([hidden])")
    assert "Connection to the control room lost" in await page.inner_text("#banner")
    await page.click("#hangup")
    await wait_for_phase(page, "ended-cancelled")
    assert "could not be told" in await page.inner_text("#ended-detail")
    assert await page.is_hidden("#banner")
    assert phone.script_errors == []


async def test_hub_unreachable_says_so(tmp_path: Path, phone: Phone) -> None:
    page = phone.page
    hub = HubServer(test_settings(tmp_path)).start()
    try:
        await open_enrolled(page, hub.url, device_token(hub, "1001CW"))
    finally:
        hub.stop()  # the page stays loaded; the hub is gone
    await page.click("#verify")
    await wait_for_phase(page, "ended-unreachable")
    assert await page.inner_text("#ended-title") == "No connection"
    assert "Cannot reach the control room" in await page.inner_text("#ended-detail")
    assert phone.script_errors == []


async def test_revoked_device_is_told_to_contact_the_control_room(
    hub_server: HubServer, phone: Phone
) -> None:
    page = phone.page
    token = device_token(hub_server, "1004CW")
    await open_enrolled(page, hub_server.url, token)
    hub_cli("revoke-device", "--db", hub_server.settings.db_url, "--officer", "1004CW")
    revoked = "This device has been revoked — contact your control room."

    # Revoked while the page was open: the next tap finds out.
    await page.click("#verify")
    await wait_for_phase(page, "enrol")
    assert await page.inner_text("#enrol-error") == revoked
    assert await page.evaluate("localStorage.getItem('safe-connection.device-token')") is None
    assert active_request_ids(hub_server.url) == []

    # A page opened with the revoked token finds out on load.
    await page.evaluate(
        "(token) => localStorage.setItem('safe-connection.device-token', token)", token
    )
    await page.reload()
    await wait_for_phase(page, "enrol")
    assert await page.inner_text("#enrol-error") == revoked
    assert phone.script_errors == []


async def test_wrong_enrolment_code_is_refused_clearly(hub_server: HubServer, phone: Phone) -> None:
    page = phone.page
    await page.goto(f"{hub_server.url}/field")
    await wait_for_phase(page, "enrol")
    await page.click("#enrol-submit")
    assert "Enter both" in await page.inner_text("#enrol-error")
    await page.fill("#enrol-warrant", "WC000000")
    await page.fill("#enrol-code", "ABCD-EFGH")
    await page.click("#enrol-submit")
    await page.wait_for_function(
        "() => document.getElementById('enrol-error').textContent.includes('not recognised')"
    )
    assert await page.evaluate("localStorage.getItem('safe-connection.device-token')") is None
    assert phone.script_errors == []


async def test_call_failed_by_the_control_room_is_explained(
    hub_server: HubServer, browser: Browser
) -> None:
    phone = await new_phone(browser)
    page = phone.page
    try:
        await open_enrolled(page, hub_server.url, device_token(hub_server, "1005CW"))
        async with HeadlessAnswerer(hub_server.url) as sergeant:
            await page.click("#verify")
            queued = await sergeant.wait_for_request(lambda r: r.state == RequestState.QUEUED)
            claimed = await sergeant.http.post(f"/requests/{queued.id}/claim")
            assert claimed.status_code == 200, claimed.text
            await wait_for_phase(page, "claimed")
            assert "PS Smith" in await page.inner_text("#call-title")
            failed = await sergeant.http.post(
                f"/requests/{queued.id}/fail", json={"detail": "no media"}
            )
            assert failed.status_code == 200, failed.text
            await wait_for_phase(page, "ended-failed")
            assert "video call failed" in (await page.inner_text("#ended-detail")).lower()
        assert phone.script_errors == []
    finally:
        await phone.close()


async def test_queue_position_is_shown_and_expiry_says_nobody_answered(
    tmp_path: Path, phone: Phone
) -> None:
    page = phone.page
    hub = HubServer(test_settings(tmp_path, expire_after_seconds=6.0)).start()
    try:
        # Another officer is already waiting (his device's offer is never answered here).
        ahead = httpx.post(
            f"{hub.url}{API_PREFIX}/requests",
            json={"sdp_offer": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\n"},
            headers=auth(device_token(hub, "1002CW")),
            timeout=10,
        )
        assert ahead.status_code == 201, ahead.text
        await open_enrolled(page, hub.url, device_token(hub, "1001CW"))
        await page.click("#verify")
        await wait_for_phase(page, "queued")
        await page.wait_for_function(
            "() => document.getElementById('call-detail').textContent.includes('2nd in the queue')"
        )
        await wait_for_phase(page, "ended-expired", timeout_s=30)
        assert await page.inner_text("#ended-title") == "Nobody answered"
        assert "No sergeant was free" in await page.inner_text("#ended-detail")
    finally:
        hub.stop()
    assert phone.script_errors == []


async def test_reloading_the_page_mid_call_leaves_no_dead_request_queued(
    hub_server: HubServer, phone: Phone
) -> None:
    """The call's media dies with the page; the page must not leave the sergeant a ghost call."""
    page = phone.page
    await open_enrolled(page, hub_server.url, device_token(hub_server, "1001CW"))
    async with HeadlessAnswerer(hub_server.url) as sergeant:
        await page.click("#verify")
        queued = await sergeant.wait_for_request(lambda r: r.state == RequestState.QUEUED)
        await wait_for_phase(page, "queued")
        await page.reload()
        await wait_for_phase(page, "home")
        await sergeant.wait_for_state(queued.id, RequestState.CANCELLED)
        # And the officer can call again at once (one active request per device).
        await page.click("#verify")
        again = await sergeant.wait_for_request(
            lambda r: r.state == RequestState.QUEUED and r.id != queued.id
        )
        await wait_for_phase(page, "queued")
        await page.click("#hangup")
        await sergeant.wait_for_state(again.id, RequestState.CANCELLED)
    assert phone.script_errors == []
