"""Server-sent event streams: resume from a cursor with no gap and no duplicate, then go live.

A subscriber first drains the database for cursors older than the in-memory ring, then reads the
ring and waits for the bus's notification. When it is behind, everything pending is written as one
chunk (one socket write per subscriber per wake-up, not one per event).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from starlette.concurrency import run_in_threadpool

from hub.event_bus import BusEvent, EventBus
from hub.service import HubService

HEARTBEAT = b": heartbeat\n\n"
MAX_EVENTS_PER_CHUNK = 500
DB_READ_TIMEOUT_SECONDS = 30.0


async def event_chunks(
    service: HubService,
    bus: EventBus,
    cursor: int,
    heartbeat_seconds: float,
    select: Callable[[BusEvent], bytes | None],
    request_id: int | None = None,
) -> AsyncIterator[bytes]:
    """Yield SSE chunks for every event after `cursor` (filtered by `select`) until shutdown.

    `request_id` narrows the database catch-up to one request (device streams). A heartbeat goes
    out whenever nothing was written for `heartbeat_seconds`, also while other requests' events
    keep waking a filtered stream.
    """
    with bus.subscription():
        chunks = _chunks(service, bus, cursor, heartbeat_seconds, select, request_id)
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                yield chunk


async def _chunks(
    service: HubService,
    bus: EventBus,
    cursor: int,
    heartbeat_seconds: float,
    select: Callable[[BusEvent], bytes | None],
    request_id: int | None,
) -> AsyncGenerator[bytes]:
    loop = asyncio.get_running_loop()
    # An opening comment makes proxies and clients see the stream as open at once.
    yield b": connected\n\n"
    last_write = loop.time()
    while not bus.closed:
        batch = bus.after(cursor, MAX_EVENTS_PER_CHUNK)
        if batch is None:
            # The ring no longer covers this cursor: catch up from the database.
            batch = await asyncio.wait_for(
                run_in_threadpool(service.events_from_db, cursor, MAX_EVENTS_PER_CHUNK, request_id),
                DB_READ_TIMEOUT_SECONDS,
            )
            if not batch:  # nothing stored between the cursor and the ring's floor
                cursor = max(cursor, bus.floor)
                continue
        if batch:
            cursor = batch[-1].id
            chunk = b"".join(part for part in map(select, batch) if part)
            if chunk:
                yield chunk
                last_write = loop.time()
                continue
        idle = loop.time() - last_write
        if idle >= heartbeat_seconds:
            yield HEARTBEAT
            last_write = loop.time()
            continue
        await bus.wait()  # woken by events, by `bus.tick()` (heartbeats) and at shutdown


def console_select(event: BusEvent) -> bytes:
    """Operators see every event."""
    return event.console_sse


def device_select(request_id: int) -> Callable[[BusEvent], bytes | None]:
    """A device sees only its own request's events."""

    def _select(event: BusEvent) -> bytes | None:
        return event.device_sse if event.request_id == request_id else None

    return _select
