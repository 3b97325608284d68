"""Small helpers for shell tests: condition polling with a deadline, screenshots."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QWidget

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"


async def wait_until(
    condition: Callable[[], object], *, timeout: float = 30.0, what: str = "condition"
) -> None:
    """Poll `condition` on the running loop until it is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def save_screenshot(widget: QWidget, name: str) -> Path:
    """Grab `widget` into artifacts/<name>.png (git-ignored) for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    widget.grab().save(str(path))
    return path


def activate(qapp, qtbot, window: QWidget) -> None:
    """Make `window` the active window (shortcuts only fire there). `activateWindow()` is a
    no-op on the offscreen platform; `requestActivate()` on its QWindow works."""
    handle = window.windowHandle()
    assert handle is not None, "show() the window first"
    handle.requestActivate()
    qtbot.waitUntil(lambda: qapp.focusWindow() is handle, timeout=20000)
