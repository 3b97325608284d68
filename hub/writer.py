"""Where the hub's write use cases run, called from async routes: on the event loop itself when the
database is a local SQLite file, else (and whenever that would mean waiting) on one writer thread.

Why on the loop: an in-process SQLite write commits in well under a millisecond and, with WAL and no
checkpoint inside the commit (hub/storage/database.py), never waits for disk. Handing it to a thread
cost more than the write: sqlite3 releases the GIL around every statement, so the loop and the
writer thread took turns at the GIL up to ~15 times per transaction, and the same machine served
250 requests/s with the thread against 470/s inline (docs/performance.md, Hub).

Why never wait on the loop: another writer may hold the lock (the reaper, a sign-in, the admin CLI
in another process). The loop then must not stall every stream behind it, so such a write gives up
at once, before doing anything (`WriteBusyError`), and waits its turn on the writer thread instead.
PostgreSQL writes are network round trips: always on the thread.

Why one thread and not FastAPI's pool: with 30 devices posting at once, 30 pool threads each took a
turn at the one writer lock while fighting the event loop for the GIL. Writes are serialised
anyway, so a single warm thread running them in arrival order loses no parallelism.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from hub.storage.database import WriteBusyError, non_blocking_writes

log = logging.getLogger(__name__)


class Writer:
    """Runs write use cases inline (if `inline`) or one at a time on a dedicated thread;
    `close()` drains and stops the thread."""

    def __init__(self, inline: bool = False) -> None:
        self.inline = inline
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-writer")

    async def run[**P, T](self, write: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `write(*args, **kwargs)` and return its result (or raise).

        On the writer thread, if the awaiting request is cancelled (client gone), the write still
        finishes and commits; inline, it cannot be interrupted at all.
        """
        if self.inline:
            try:
                with non_blocking_writes():
                    return write(*args, **kwargs)
            except WriteBusyError as busy:
                # Someone else is writing: wait for them on the thread, not on the loop.
                log.debug("%s waits on the writer thread: %s", write.__name__, busy)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(write, *args, **kwargs))

    def close(self) -> None:
        """Finish the threaded write in progress, drop queued ones, stop the thread."""
        self._executor.shutdown(wait=True, cancel_futures=True)
