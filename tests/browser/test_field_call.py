"""The officer's field page in real Chromium against a real hub and a headless aiortc sergeant.

Everything is real: uvicorn on loopback, SQLite, Chromium's fake camera, WebRTC both ways. The
sergeant is `tests/helpers/answerer.py` (aiortc), standing in for the console.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser

from hub.server import HubServer
from protocol.schemas import API_PREFIX, REASON_LABELS, Outcome, ReasonCode, RequestState
from tests.browser.conftest import Phone, enrolment_code, new_phone
from tests.browser.field_phone import (
    dump,
    media_stats,
    open_enrolled,
    wait_for_decoded_frames,
    wait_for_phase,
    wait_for_video_painted,
)
from tests.helpers.answerer import HeadlessAnswerer
from tests.helpers.hub import auth, device_token, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# Screenshots go to artifacts/ (git-ignored) on a test run; `make screenshots` sets
# SC_SCREENSHOT_DIR=docs to refresh the pictures the documentation shows.
SHOTS = ROOT / (os.environ.get("SC_SCREENSHOT_DIR") or "artifacts")
FRAMES = 30  # one second of video at 30 fps: enough to prove frames keep flowing
WAKE_LOCK_HELD = """() => {
    const lock = window.safeConnection.session?.wakeLock;
    return !!lock && lock.released === false;
}"""
WAKE_LOCK_RELEASED = "() => window.safeConnection.session.wakeLock.released === true"


def warrant_number_of(hub_url: str, collar: str) -> str:
    """The officer's warrant card number, as printed on the card he holds."""
    token = device_token(hub_url, collar)
    response = httpx.get(f"{hub_url}{API_PREFIX}/device/me", headers=auth(token), timeout=10)
    response.raise_for_status()
    return str(response.json()["warrant_number"])


async def test_enrol_verify_and_confirm_shows_the_reference(
    hub_server: HubServer, phone: Phone
) -> None:
    page = phone.page
    warrant = warrant_number_of(hub_server.url, "1001CW")
    code = enrolment_code(hub_server.settings.db_url, "1001CW")

    # Enrolment, once: the page keeps the token and shows who the phone belongs to.
    await page.goto(f"{hub_server.url}/field")
    await wait_for_phase(page, "enrol")
    await page.fill("#enrol-warrant", warrant)
    await page.fill("#enrol-code", code)
    await page.screenshot(path=str(SHOTS / "field-enrol.png"))
    await page.click("#enrol-submit")
    await wait_for_phase(page, "home")
    await page.screenshot(path=str(SHOTS / "field-home.png"))
    assert "1001CW" in await page.inner_text("#home-officer")
    stored = await page.evaluate("localStorage.getItem('safe-connection.device-token')")
    assert stored.startswith("dev_")
    await page.reload()  # the enrolment survives a reload
    await wait_for_phase(page, "home")

    async with HeadlessAnswerer(hub_server.url) as sergeant:
        await page.click("#verify")
        queued = await sergeant.wait_for_request(lambda r: r.state == RequestState.QUEUED)
        assert queued.officer.collar_number == "1001CW"
        assert queued.location is not None, "the phone's location was not sent"
        assert queued.location.latitude == pytest.approx(51.5007)
        await wait_for_phase(page, "queued")
        await page.wait_for_function(
            "() => document.getElementById('call-detail').textContent.includes('1st in the queue')"
        )
        await wait_for_video_painted(page, "#local-video", "own camera preview is black")
        await page.screenshot(path=str(SHOTS / "field-waiting.png"))

        call = await sergeant.claim_and_answer(queued.id)
        await wait_for_phase(page, "connected")
        # Officer → sergeant: the answerer decodes the page's camera.
        await call.wait_for_frames("video", FRAMES)
        await call.wait_for_frames("audio", FRAMES)
        received = call.consumers["video"].stats
        assert received.width is not None, received
        assert received.width >= 320, received
        assert received.height is not None, received
        assert received.height >= 180, received
        # Sergeant → officer: Chromium decodes the answerer's video and plays it.
        await wait_for_decoded_frames(page, FRAMES)
        stats = await media_stats(page)
        assert stats["codec"] == "video/VP8", dump(stats)
        assert stats["inbound"]["frameWidth"] > 0, dump(stats)
        assert stats["outbound"]["framesEncoded"] >= FRAMES, dump(stats)
        assert stats["inboundAudio"]["packetsReceived"] > 0, dump(stats)
        await wait_for_video_painted(page, "#remote-video", "sergeant's video is black")
        assert "PS Smith" in await page.inner_text("#call-title")
        await page.screenshot(path=str(SHOTS / "field-in-call.png"))

        decided = await sergeant.decide(call)
        assert decided.decision is not None
        reference = decided.decision.reference
        await wait_for_phase(page, "decided-confirmed")
        assert await page.inner_text("#outcome-banner") == "CONFIRMED"
        assert await page.inner_text("#outcome-reference") == reference
        assert "1001CW" in await page.inner_text("#outcome-officer")
        assert "PS Smith" in await page.inner_text("#outcome-sergeant")
        assert await page.inner_text("#outcome-time")
        assert await page.is_hidden("#outcome-advice")
        await page.screenshot(path=str(SHOTS / "field-confirmed.png"))

        await sergeant.end(call)
        await wait_for_phase(page, "ended-confirmed")
        # The outcome stays on screen after the call for the woman to photograph.
        assert await page.inner_text("#outcome-reference") == reference
        assert await page.inner_text("#outcome-done") == "Done"
        ended = await sergeant.wait_for_state(queued.id, RequestState.ENDED)
        assert ended.decision is not None
        assert ended.decision.reference == reference
    assert phone.script_errors == []


async def test_refusal_shows_the_reason_and_works_without_location(
    hub_server: HubServer, browser: Browser
) -> None:
    phone = await new_phone(browser, with_location=False)
    page = phone.page
    try:
        await open_enrolled(page, hub_server.url, device_token(hub_server, "1002CW"))
        async with HeadlessAnswerer(hub_server.url, "jones", "jones-demo") as sergeant:
            await page.click("#verify")
            queued = await sergeant.wait_for_request(lambda r: r.state == RequestState.QUEUED)
            assert queued.location is None  # no permission: the call still goes ahead
            call = await sergeant.claim_and_answer(queued.id)
            await wait_for_phase(page, "connected")
            decided = await sergeant.decide(
                call,
                Outcome.REFUSED,
                ReasonCode.WARRANT_NOT_VALID,
                notes="Warrant card suspended on the register",
            )
            assert decided.decision is not None
            await wait_for_phase(page, "decided-refused")
            assert await page.inner_text("#outcome-banner") == "REFUSED"
            reason = await page.inner_text("#outcome-reason")
            assert REASON_LABELS[ReasonCode.WARRANT_NOT_VALID] in reason
            assert await page.inner_text("#outcome-reference") == decided.decision.reference
            assert await page.is_visible("#outcome-advice")
            await page.screenshot(path=str(SHOTS / "field-refused.png"))

            # The officer ends the call from the outcome screen: decided → ended.
            await page.click("#outcome-done")
            await wait_for_phase(page, "ended-refused")
            await sergeant.wait_for_state(queued.id, RequestState.ENDED)
            await sergeant.close_media(call)
        assert phone.script_errors == []
    finally:
        await phone.close()


async def test_hanging_up_while_queued_cancels_the_request(
    hub_server: HubServer, browser: Browser
) -> None:
    # No location grant, so that the screen wake lock keeps its default (see `new_phone`).
    phone = await new_phone(browser, with_location=False)
    page = phone.page
    try:
        await open_enrolled(page, hub_server.url, device_token(hub_server, "1003CW"))
        async with HeadlessAnswerer(hub_server.url) as sergeant:
            await page.click("#verify")
            queued = await sergeant.wait_for_request(lambda r: r.state == RequestState.QUEUED)
            await wait_for_phase(page, "queued")
            # The screen stays on while the officer waits and talks.
            await page.wait_for_function(WAKE_LOCK_HELD)
            await page.click("#hangup")
            await wait_for_phase(page, "ended-cancelled")
            await page.wait_for_function(WAKE_LOCK_RELEASED, timeout=30_000)
            assert "cancelled" in (await page.inner_text("#ended-detail")).lower()
            await sergeant.wait_for_state(queued.id, RequestState.CANCELLED)

        operator = login(hub_server.url, "smith", "smith-demo")
        active = httpx.get(
            f"{hub_server.url}{API_PREFIX}/requests",
            params={"active": "true"},
            headers=auth(operator),
            timeout=10,
        )
        active.raise_for_status()
        assert queued.id not in [item["id"] for item in active.json()]
        # The camera is released: no live track left on the page.
        assert await page.evaluate("document.getElementById('local-video').srcObject") is None
        assert phone.script_errors == []
    finally:
        await phone.close()


async def test_call_given_back_to_the_queue_after_media_calls_again(
    hub_server: HubServer, phone: Phone
) -> None:
    """A release after the answer: the page cannot take a second answer to its first offer, so it
    cancels that request and queues a fresh one; the next sergeant then connects normally."""
    page = phone.page
    await open_enrolled(page, hub_server.url, device_token(hub_server, "1001CW"))
    async with HeadlessAnswerer(hub_server.url) as sergeant:
        await page.click("#verify")
        first = await sergeant.wait_for_request(lambda r: r.state == RequestState.QUEUED)
        call = await sergeant.claim_and_answer(first.id)
        await wait_for_phase(page, "connected")
        released = await sergeant.http.post(f"/requests/{first.id}/release")
        assert released.status_code == 200, released.text
        await sergeant.close_media(call)

        await sergeant.wait_for_state(first.id, RequestState.CANCELLED)
        second = await sergeant.wait_for_request(
            lambda r: r.state == RequestState.QUEUED and r.id != first.id
        )
        assert second.officer.collar_number == "1001CW"
        await wait_for_phase(page, "queued")
        again = await sergeant.claim_and_answer(second.id)
        await wait_for_phase(page, "connected")
        await wait_for_decoded_frames(page, 10)
        decided = await sergeant.decide(again)
        assert decided.decision is not None
        await wait_for_phase(page, "decided-confirmed")
        assert await page.inner_text("#outcome-reference") == decided.decision.reference
        await sergeant.end(again)
    assert phone.script_errors == []
