"""Driving the field page like an officer would, and reading what it shows (tests and the bench)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from playwright.async_api import Page

TOKEN_KEY = "safe-connection.device-token"


async def phase_of(page: Page) -> str:
    """The page's own account of where it is (`<body data-phase>`)."""
    return str(await page.evaluate("document.body.dataset.phase"))


async def wait_for_phase(page: Page, *phases: str, timeout_s: float = 30.0) -> str:
    """Wait until the page reaches one of `phases`; fail with the phase it is stuck in."""
    wanted = list(phases)
    try:
        await page.wait_for_function(
            "(wanted) => wanted.includes(document.body.dataset.phase)",
            arg=wanted,
            timeout=timeout_s * 1000,
            polling=100,
        )
    except Exception as error:
        shown = await page.inner_text("main")
        raise AssertionError(
            f"page stuck in {await phase_of(page)!r}, wanted {wanted}; shows: {shown!r}"
        ) from error
    return await phase_of(page)


async def open_enrolled(page: Page, hub_url: str, device_token: str) -> None:
    """Open the page on a phone that already holds `device_token` (enrolled earlier)."""
    await page.goto(f"{hub_url}/field")
    await wait_for_phase(page, "enrol", "home")
    await page.evaluate(
        "([key, token]) => localStorage.setItem(key, token)", [TOKEN_KEY, device_token]
    )
    await page.reload()
    await wait_for_phase(page, "home")


async def media_stats(page: Page) -> dict[str, Any]:
    """The page's compact `pc.getStats()` view (see call.js `stats()`)."""
    stats = await page.evaluate("window.safeConnection.stats()")
    assert stats is not None, "no call on the page"
    return dict(stats)


async def wait_for_decoded_frames(
    page: Page, count: int, timeout_s: float = 30.0
) -> dict[str, Any]:
    """Wait until the page decoded `count` frames of the sergeant's video; return the stats.

    getStats() is asynchronous, which `wait_for_function` cannot await (a pending Promise counts
    as truthy there), so this polls from here with a deadline.
    """
    deadline = time.monotonic() + timeout_s
    stats: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        stats = await page.evaluate("window.safeConnection.stats()")
        inbound = (stats or {}).get("inbound") or {}
        if inbound.get("framesDecoded", 0) >= count:
            return dict(stats or {})
        await asyncio.sleep(0.1)  # polling with a deadline: the page has no event to await
    raise AssertionError(f"page decoded fewer than {count} frames in {timeout_s:g} s: {stats}")


# True when the <video> has real frames with some non-black pixels.
VIDEO_IS_PAINTED = """(selector) => {
    const video = document.querySelector(selector);
    if (!video || video.videoWidth === 0) return false;
    const canvas = document.createElement('canvas');
    canvas.width = 64; canvas.height = 36;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let bright = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i] + data[i + 1] + data[i + 2] > 60) bright += 1;
    }
    return bright > 100;
}"""


async def wait_for_video_painted(
    page: Page, selector: str, failure: str, timeout_s: float = 30.0
) -> None:
    """Wait until the <video> at `selector` shows non-black frames; fail with `failure`.

    A point-in-time look is not enough: on a loaded machine the first decoded frame can arrive
    well after the phase that made the video visible, so this polls the same pixel predicate
    until a generous deadline (it returns as soon as the picture is there).
    """
    try:
        await page.wait_for_function(
            VIDEO_IS_PAINTED, arg=selector, timeout=timeout_s * 1000, polling=100
        )
    except Exception as error:
        raise AssertionError(f"{failure} (waited {timeout_s:g} s for {selector})") from error


def dump(value: object) -> str:
    """Readable JSON for assertion messages."""
    return json.dumps(value, indent=1, default=str)
