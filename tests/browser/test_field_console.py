"""The field page in Chromium answered by the REAL console call stack (offscreen widgets, aiortc
media engine) through a real hub: the officer's phone and the sergeant's workstation end to end.

The phone (Playwright driving Chromium) runs on its own thread and asyncio loop — it is somebody
else's device; the console runs on a qasync loop like the application (tests/helpers/console.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import async_playwright
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from console.domain.call import CallPhase
from hub.server import HubServer
from tests.browser.conftest import launch_chromium, new_phone
from tests.browser.field_phone import open_enrolled, wait_for_decoded_frames, wait_for_phase
from tests.helpers.console import ConsoleUnderTest, console_against, run_on_qasync
from tests.helpers.hub import device_token

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

CALL_TIMEOUT_S = 90.0


@dataclass
class PhoneResult:
    reference: str
    banner: str
    stats: dict[str, Any]
    script_errors: list[str]


async def officer_phone(hub_url: str, token: str) -> PhoneResult:
    """The officer's whole side: open the page, Verify me, wait for the sergeant's verdict."""
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            phone = await new_phone(browser)
            page = phone.page
            await open_enrolled(page, hub_url, token)
            await page.click("#verify")
            await wait_for_phase(page, "connected", timeout_s=CALL_TIMEOUT_S)
            stats = await wait_for_decoded_frames(page, 30, timeout_s=CALL_TIMEOUT_S)
            await wait_for_phase(
                page, "decided-confirmed", "ended-confirmed", timeout_s=CALL_TIMEOUT_S
            )
            return PhoneResult(
                reference=await page.inner_text("#outcome-reference"),
                banner=await page.inner_text("#outcome-banner"),
                stats=stats,
                script_errors=phone.script_errors,
            )
        finally:
            await browser.close()


def confirm_with_full_checklist(console: ConsoleUnderTest) -> None:
    panel = console.panel.decision_panel
    for box in panel.checks.values():
        box.setChecked(True)
    QTest.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)


def test_console_answers_the_browser_and_the_page_shows_confirmed(
    hub_server: HubServer, qapp
) -> None:
    token = device_token(hub_server, "1001CW")

    async def scenario() -> None:
        async with console_against(hub_server.url) as console:
            phone = asyncio.ensure_future(
                asyncio.to_thread(asyncio.run, officer_phone(hub_server.url, token))
            )
            try:
                created = await console.wait_for_event("request.created", timeout=CALL_TIMEOUT_S)
                request_id = created.request.id
                assert created.request.officer.collar_number == "1001CW"
                await console.vm.answer(request_id)
                await console.wait_until(
                    lambda: console.service.state.phase == CallPhase.CONNECTED,
                    "media connected",
                    timeout=CALL_TIMEOUT_S,
                )
                # Officer → sergeant: Chromium's camera is painted in the console.
                await console.wait_until(
                    lambda: console.remote_feed.rendered_count >= 30,
                    "30 frames from Chromium",
                    timeout=CALL_TIMEOUT_S,
                )
                confirm_with_full_checklist(console)
                await console.wait_until(
                    lambda: console.service.state.phase == CallPhase.DECIDED,
                    "decided",
                    timeout=CALL_TIMEOUT_S,
                )
                decision = console.service.state.decision
                assert decision is not None
                result = await asyncio.wait_for(phone, CALL_TIMEOUT_S)
            finally:
                if not phone.done():
                    await asyncio.gather(phone, return_exceptions=True)
            # Sergeant → officer: Chromium decoded the console's video.
            assert result.stats["inbound"]["framesDecoded"] >= 30, result.stats
            assert result.stats["codec"] == "video/VP8", result.stats
            assert result.banner == "CONFIRMED"
            assert result.reference == decision.reference
            assert result.script_errors == []
            await console.vm.hang_up()
            await console.wait_for_event("request.ended", request_id, timeout=CALL_TIMEOUT_S)

    run_on_qasync(scenario())
