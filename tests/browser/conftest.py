"""Fixtures for the field page in a real Chromium: a browser, a phone-sized page, the hub's CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright

from tests.browser.chromium import CHROMIUM, PHONE_VIEWPORT, chromium_args
from tests.helpers.hub import hub_server  # noqa: F401 - the fixture, used by the tests here

# Westminster Bridge: where the fake phone says it is.
PHONE_LOCATION = {"latitude": 51.5007, "longitude": -0.1219, "accuracy": 12}
HUB_CLI = Path(sys.executable).with_name("safe-connection-hub")


@dataclass
class Phone:
    """A page on a phone-sized screen, and the script errors it raised (tests assert none)."""

    context: BrowserContext
    page: Page
    script_errors: list[str] = field(default_factory=list)

    async def close(self) -> None:
        await self.context.close()


async def launch_chromium(
    playwright: Playwright, *, allow_camera: bool = True, has_camera: bool = True
) -> Browser:
    """Headless Debian Chromium with a fake camera (see `chromium_args` for the switches)."""
    return await playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=chromium_args(allow_camera=allow_camera, has_camera=has_camera),
    )


async def new_phone(browser: Browser, *, with_location: bool = True) -> Phone:
    """A fresh phone: its own localStorage, a phone viewport, script errors recorded.

    `with_location` grants the location permission (the phone is on Westminster Bridge). Note that
    Playwright's grant list refuses every permission not on it (the screen wake lock included),
    where a real phone would grant that one to a visible page by default.
    """
    options: dict[str, object] = {"viewport": PHONE_VIEWPORT, "device_scale_factor": 2}
    if with_location:
        options["geolocation"] = PHONE_LOCATION
        options["permissions"] = ["geolocation"]
    context = await browser.new_context(**options)  # type: ignore[arg-type]
    phone = Phone(context, await context.new_page())
    phone.page.on("pageerror", lambda error: phone.script_errors.append(str(error)))
    return phone


@pytest.fixture
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as running:
        yield running


@pytest.fixture
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    """Headless Chromium with a fake camera whose permission prompt is accepted."""
    browser = await launch_chromium(playwright)
    try:
        yield browser
    finally:
        await browser.close()


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Phone]:
    """A phone-sized page with location permission, recording script errors."""
    phone = await new_phone(browser)
    try:
        yield phone
    finally:
        await phone.close()


def hub_cli(*args: str) -> str:
    """Run `safe-connection-hub ARGS` (as an administrator would) and return its stdout."""
    completed = subprocess.run(
        [str(HUB_CLI), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, f"{args}: {completed.stderr}"
    return completed.stdout


def enrolment_code(db_url: str, collar: str) -> str:
    """A one-time enrolment code, made with `safe-connection-hub enrol-device` (first line)."""
    return hub_cli("enrol-device", "--db", db_url, "--officer", collar).splitlines()[0].strip()
