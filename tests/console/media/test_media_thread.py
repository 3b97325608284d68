"""MediaThread: work crosses to the media loop and back; timeouts cancel the media-side task."""

from __future__ import annotations

import asyncio
import threading

import pytest

from console.adapters.media.media_thread import MediaThread, MediaThreadClosedError


async def test_runs_on_its_own_thread() -> None:
    media = MediaThread(name="media-test")
    try:

        async def where() -> str:
            return threading.current_thread().name

        assert await media.run(where(), timeout_s=30) == "media-test"
    finally:
        media.stop()


async def test_timeout_cancels_the_media_side_task() -> None:
    media = MediaThread()
    cancelled = threading.Event()
    try:

        async def slow() -> None:
            try:
                await asyncio.sleep(30)
            finally:
                cancelled.set()

        with pytest.raises(TimeoutError):
            await media.run(slow(), timeout_s=0.05)
        assert await asyncio.to_thread(cancelled.wait, 5)
    finally:
        media.stop()


async def test_submit_after_stop_is_a_clear_error() -> None:
    media = MediaThread()
    media.stop()
    media.stop()  # idempotent

    async def nothing() -> None:
        return None

    with pytest.raises(MediaThreadClosedError):
        media.submit(nothing())
