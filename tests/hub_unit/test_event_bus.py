"""The in-memory event ring: cursors, trimming, the database fallback signal, wake-ups."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading

import pytest

from hub.event_bus import MAX_WAKE_SPACING, WAKE_SPACING_PER_SUBSCRIBER, BusEvent, EventBus


def _event(event_id: int, request_id: int = 1) -> BusEvent:
    return BusEvent(
        event_id, "request.created", request_id, f"c{event_id}".encode(), f"d{event_id}".encode()
    )


def test_after_returns_exactly_the_events_past_the_cursor() -> None:
    bus = EventBus(ring_size=100)
    bus.publish_threadsafe([_event(i) for i in range(1, 11)])
    assert [e.id for e in bus.after(0) or []] == list(range(1, 11))
    assert [e.id for e in bus.after(7) or []] == [8, 9, 10]
    assert bus.after(10) == []
    assert [e.id for e in bus.after(2, limit=3) or []] == [3, 4, 5]
    assert bus.last_id == 10


def test_gaps_in_ids_are_fine() -> None:
    bus = EventBus(ring_size=100)
    bus.publish_threadsafe([_event(i) for i in (3, 5, 9)])
    assert [e.id for e in bus.after(4) or []] == [5, 9]
    assert [e.id for e in bus.after(5) or []] == [9]


def test_duplicates_are_ignored() -> None:
    bus = EventBus(ring_size=100)
    bus.publish_threadsafe([_event(1), _event(2)])
    bus.publish_threadsafe([_event(2), _event(3)])
    assert [e.id for e in bus.after(0) or []] == [1, 2, 3]


def test_a_cursor_older_than_the_ring_asks_for_the_database() -> None:
    bus = EventBus(ring_size=8)
    bus.publish_threadsafe([_event(i) for i in range(1, 101)])
    assert bus.floor > 0
    assert bus.after(bus.floor - 1) is None
    covered = bus.after(bus.floor) or []
    assert [e.id for e in covered] == list(range(bus.floor + 1, 101))


def test_a_fresh_bus_starts_above_the_stored_events() -> None:
    bus = EventBus(ring_size=8, floor=500)
    assert bus.last_id == 500
    assert bus.after(499) is None
    assert bus.after(500) == []


async def test_publishing_from_a_thread_wakes_a_waiting_subscriber() -> None:
    bus = EventBus(ring_size=8)
    bus.bind_loop(asyncio.get_running_loop())
    waiter = asyncio.create_task(bus.wait(10))
    publisher = threading.Thread(target=bus.publish_threadsafe, args=([_event(1)],))
    # call_soon runs after the task's first step (FIFO), i.e. once the waiter is waiting.
    asyncio.get_running_loop().call_soon(publisher.start)
    assert await asyncio.wait_for(waiter, 5) is True
    publisher.join()
    assert [e.id for e in bus.after(0) or []] == [1]


async def test_wait_times_out_without_events() -> None:
    bus = EventBus(ring_size=8)
    bus.bind_loop(asyncio.get_running_loop())
    assert await bus.wait(0.01) is False


async def test_close_wakes_waiters_and_marks_the_bus_closed() -> None:
    bus = EventBus(ring_size=8)
    bus.bind_loop(asyncio.get_running_loop())
    waiter = asyncio.create_task(bus.wait(10))
    asyncio.get_running_loop().call_soon(bus.close_threadsafe)
    assert await asyncio.wait_for(waiter, 5) is True
    assert bus.closed


def test_wake_spacing_grows_with_subscribers_up_to_a_cap() -> None:
    bus = EventBus(ring_size=8)
    assert bus.wake_spacing() == 0.0
    with contextlib.ExitStack() as stack:
        for _ in range(100):
            stack.enter_context(bus.subscription())
        assert bus.subscribers == 100
        assert bus.wake_spacing() == pytest.approx(100 * WAKE_SPACING_PER_SUBSCRIBER)
        for _ in range(1000):
            stack.enter_context(bus.subscription())
        assert bus.wake_spacing() == MAX_WAKE_SPACING
    assert bus.subscribers == 0


async def _wake_times(bus: EventBus, publishes: int) -> list[float]:
    """Publish `publishes` times, each right after the previous wake-up; when did each land?"""
    loop = asyncio.get_running_loop()
    times = []
    for n in range(1, publishes + 1):
        waiter = asyncio.create_task(bus.wait(10))
        loop.call_soon(bus.publish_threadsafe, [_event(n)])
        assert await asyncio.wait_for(waiter, 5) is True
        times.append(loop.time())
    return times


async def test_a_busy_bus_spaces_its_wake_ups() -> None:
    """With 100 subscribers, back-to-back publishes wake them at most once per spacing."""
    bus = EventBus(ring_size=64)
    bus.bind_loop(asyncio.get_running_loop())
    with contextlib.ExitStack() as stack:
        for _ in range(100):
            stack.enter_context(bus.subscription())
        spacing = bus.wake_spacing()
        times = await _wake_times(bus, 4)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # A timer never fires early by more than the clock's resolution.
    assert all(gap >= spacing - 1e-3 for gap in gaps), (gaps, spacing)
    assert [e.id for e in bus.after(0) or []] == [1, 2, 3, 4]


async def test_tick_wakes_subscribers_without_an_event() -> None:
    bus = EventBus(ring_size=8)
    bus.bind_loop(asyncio.get_running_loop())
    waiter = asyncio.create_task(bus.wait())
    asyncio.get_running_loop().call_soon(bus.tick)
    assert await asyncio.wait_for(waiter, 5) is True
    assert bus.after(0) == []
