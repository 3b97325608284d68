"""In-memory fan-out of committed events to SSE subscribers.

Writers commit an event row, then publish it here (in commit order, from any thread). Subscribers
read from a bounded ring of recent events and wait on an asyncio notification; a cursor older than
the ring falls back to the database (see hub/streams.py). Each entry carries its SSE wire text
pre-encoded, so 100 subscribers cost 100 socket writes, not 100 JSON encodings.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

# Fan-out budget. One wake-up costs every subscriber a task switch and a socket write (~20 µs
# each), so wake-ups are spaced at least `subscribers x WAKE_SPACING_PER_SUBSCRIBER` apart: the
# loop then spends at most about a quarter of its time fanning out, however fast events come,
# and everything committed in between goes out as one chunk per subscriber. A quiet hub wakes at
# once (the spacing is measured from the previous wake-up), so a lone event is not delayed.
WAKE_SPACING_PER_SUBSCRIBER = 80e-6
MAX_WAKE_SPACING = 0.025


@dataclass(frozen=True, slots=True)
class BusEvent:
    """One committed event with its pre-encoded SSE messages for consoles and for the device."""

    id: int
    type: str
    request_id: int | None
    console_sse: bytes
    device_sse: bytes


class EventBus:
    """Ring of recent events + wake-up of waiting subscribers. Lives on the server's event loop."""

    def __init__(self, ring_size: int, floor: int = 0) -> None:
        self._ring_size = ring_size
        self._ids: list[int] = []
        self._events: list[BusEvent] = []
        # Every event with id <= floor is in the database and may have left the ring; every
        # committed event with id > floor is in the ring (or about to be published).
        self._floor = floor
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._wake_pending = False
        self._last_wake = float("-inf")
        self._subscribers = 0

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the loop that subscribers wait on (called from the app's lifespan)."""
        self._loop = loop
        self._changed = asyncio.Event()

    @property
    def floor(self) -> int:
        """Cursors below this must read the database first."""
        return self._floor

    @property
    def last_id(self) -> int:
        """The newest event id known here."""
        return self._ids[-1] if self._ids else self._floor

    @property
    def subscribers(self) -> int:
        """Streams currently reading from the bus."""
        return self._subscribers

    @contextlib.contextmanager
    def subscription(self) -> Iterator[None]:
        """Count a stream for as long as it reads (the count sets the wake-up spacing)."""
        self._subscribers += 1
        try:
            yield
        finally:
            self._subscribers -= 1

    def wake_spacing(self) -> float:
        """The least time between two wake-ups for the current number of subscribers."""
        return min(MAX_WAKE_SPACING, self._subscribers * WAKE_SPACING_PER_SUBSCRIBER)

    @property
    def closed(self) -> bool:
        """True once the hub is shutting down: streams should end."""
        return self._closed

    def close_threadsafe(self) -> None:
        """End every stream (from any thread) so that the server can stop without waiting."""
        self._closed = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def publish_threadsafe(self, events: list[BusEvent]) -> None:
        """Publish from a worker thread; the caller still holds the writer lock, so order holds."""
        if not events:
            return
        loop = self._loop
        can_wake = loop is not None and not loop.is_closed()
        with self._lock:
            self._append(events)
            # One wake-up per loop turn, however many commits land before it runs: subscribers
            # then write everything pending as one chunk instead of one socket write per event.
            schedule = can_wake and not self._wake_pending
            if schedule:
                self._wake_pending = True
        if schedule:
            assert loop is not None
            loop.call_soon_threadsafe(self._wake_when_due)

    def _append(self, events: list[BusEvent]) -> None:
        for event in events:
            if self._ids and event.id <= self._ids[-1]:
                continue  # already published (defensive; ids only grow)
            self._ids.append(event.id)
            self._events.append(event)
        excess = len(self._ids) - self._ring_size
        # Trim in chunks so that trimming stays amortised O(1) per event.
        if excess > self._ring_size // 4:
            self._floor = self._ids[excess - 1]
            del self._ids[:excess]
            del self._events[:excess]

    def _wake_when_due(self) -> None:
        assert self._loop is not None
        due = self._last_wake + self.wake_spacing()
        if self._loop.time() >= due:
            self._wake()
        else:
            self._loop.call_at(due, self._wake)

    def _wake(self) -> None:
        with self._lock:
            self._wake_pending = False
        if self._loop is not None:
            self._last_wake = self._loop.time()
        changed = self._changed
        self._changed = asyncio.Event()
        changed.set()

    def after(self, cursor: int, limit: int = 1000) -> list[BusEvent] | None:
        """Events with id > cursor from the ring; None when the ring no longer covers `cursor`."""
        with self._lock:
            if cursor < self._floor:
                return None
            start = bisect.bisect_right(self._ids, cursor)
            return self._events[start : start + limit]

    async def wait(self, seconds: float | None = None) -> bool:
        """Wait for the next wake-up (True) or the timeout (False).

        Streams wait without a timeout: arming and disarming a timer per subscriber per wake-up
        cost a third of the fan-out at 100 subscribers. Their heartbeats come from `tick`
        instead, which the app calls a few times per heartbeat interval.
        """
        changed = self._changed
        if seconds is None:
            await changed.wait()
            return True
        try:
            await asyncio.wait_for(changed.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def tick(self) -> None:
        """Wake every subscriber without an event (on the loop): each then sends a heartbeat if
        it has been quiet for a heartbeat interval."""
        self._wake()
