"""A dedicated thread running its own asyncio loop for aiortc.

Why a thread: the GUI loop (qasync) stalls whenever Qt paints, lays out or shows a dialog. RTP,
RTCP and ICE consent must keep flowing through such stalls, so aiortc lives on a stock asyncio
loop on this thread, and the GUI loop only awaits results across the boundary.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from console.adapters.memory_tuning import tune_allocator

_log = logging.getLogger(__name__)

T = TypeVar("T")

CODEC_THREADS = min(4, os.cpu_count() or 2)


class MediaThreadClosedError(RuntimeError):
    """Work was submitted after the media thread stopped."""


class MediaThread:
    """Owns one daemon thread and the asyncio loop that runs on it."""

    def __init__(self, name: str = "media") -> None:
        # Video frames are ~1.4 MB each at 720p; under glibc's dynamic mmap threshold they land
        # in fragmenting heap arenas and RSS grew in steps during a call (+7 to +17 MiB over
        # 10 minutes). Pin the threshold before this thread's codecs allocate (memory_tuning.py;
        # the console also does it at start-up). Idempotent; a no-op without glibc.
        tune_allocator()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._stopped = False
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=CODEC_THREADS, thread_name_prefix=f"{name}-codec"
        )
        self._thread.start()
        self._ready.wait()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The media loop (touch it only via the thread-safe methods below)."""
        return self._loop

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def is_current(self) -> bool:
        """True when called from the media thread itself."""
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the media loop from any thread."""
        if self._stopped:
            coro.close()
            raise MediaThreadClosedError("media thread has stopped")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def run(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        """Run `coro` on the media loop and await its result on the caller's loop.

        On timeout (or if the caller is cancelled) the media-side task is cancelled too, so no
        half-finished work keeps running unowned.
        """
        future = self.submit(coro)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
        finally:
            if not future.done():
                future.cancel()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what is left on the loop, stop it and join the thread. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
            if self._thread.is_alive():
                _log.warning("media thread did not stop within %.1f s", timeout)
                return
        self._loop.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        # aiortc encodes every outgoing frame via run_in_executor. A small fixed pool bounds the
        # number of codec threads (each new thread gets its own malloc arena, which showed up as
        # RSS steps in the soak), instead of the default min(32, cores + 4).
        self._loop.set_default_executor(self._executor)
        self._loop.call_soon(self._ready.set)
        try:
            self._loop.run_forever()
        finally:
            self._cancel_leftovers()

    def _cancel_leftovers(self) -> None:
        # Tasks still pending when the loop stops would warn "Task was destroyed but it is
        # pending"; cancel them and let them unwind on this loop before it is closed.
        pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
