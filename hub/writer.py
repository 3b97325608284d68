"""One thread for the hub's write use cases, called from async routes.

Why not FastAPI's thread pool: with 30 devices posting at once, 30 pool threads each took a turn at
the one writer lock (hub/storage/database.py) while fighting the event loop for the GIL; the lock
and GIL hand-offs cost more CPU than the writes (docs/performance.md). Writes are serialised
anyway, so a single warm thread running them one after another in arrival order loses no
parallelism. The writer lock stays: the reaper, sign-ins and the CLI write from other threads.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class WriterThread:
    """Runs write use cases one at a time on a dedicated thread; `close()` drains and stops it."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-writer")

    async def run[**P, T](self, write: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `write(*args, **kwargs)` on the writer thread and return its result (or raise).

        If the awaiting request is cancelled (client gone), the write still finishes and commits,
        exactly as it would in the thread pool.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(write, *args, **kwargs))

    def close(self) -> None:
        """Finish the write in progress, drop queued ones, stop the thread."""
        self._executor.shutdown(wait=True, cancel_futures=True)
