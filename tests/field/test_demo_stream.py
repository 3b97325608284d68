"""The demo stream (`field.simulator.run_demo_stream`) against a real --demo hub."""

from __future__ import annotations

import asyncio

import pytest

from field.errors import FieldError
from field.simulator import discover_demo_collars, discover_demo_devices, run_demo_stream
from protocol.schemas import RequestState
from tests.helpers.answerer import HeadlessAnswerer
from tests.helpers.field import unused_loopback_port


async def test_discovery_finds_every_demo_officer(hub_server) -> None:
    collars = await discover_demo_collars(hub_server.url)
    assert len(collars) >= 10
    assert len(set(collars)) == len(collars)
    assert {"1001CW", "1002CW", "1003CW", "1004CW", "1005CW"} <= set(collars)


async def test_discovery_keeps_known_demo_officers_and_skips_unknown_ones(hub_server) -> None:
    tokens = await discover_demo_devices(hub_server.url, ["1001CW", "0000XX", "1004CW"])
    assert sorted(tokens) == ["1001CW", "1004CW"]
    assert all(token.startswith("dev_") for token in tokens.values())


async def test_discovery_against_a_dead_hub_is_a_clear_error() -> None:
    with pytest.raises(FieldError, match="cannot reach the hub"):
        await discover_demo_devices(f"http://127.0.0.1:{unused_loopback_port()}", ["1001CW"])


async def test_callers_who_give_up_while_queued_leave_no_trace_in_the_queue(hub_server) -> None:
    lines: list[str] = []
    collars = (await discover_demo_collars(hub_server.url))[5:8]
    stats = await run_demo_stream(
        hub_server.url,
        stop_event=asyncio.Event(),
        count=3,
        collars=collars,
        target_waiting=3,
        interval_s=(0.05, 0.1),
        cancel_probability=1.0,
        cancel_after_s=(0.2, 0.5),
        seed=7,
        report=lines.append,
    )
    assert stats.started == 3, lines
    assert stats.cancelled == 3, lines
    assert stats.errors == 0, lines
    async with HeadlessAnswerer(hub_server.url) as sergeant:
        active = [v for v in sergeant.requests.values() if v.officer.collar_number in collars]
    assert active == []  # every one of them hung up: nothing left waiting


async def test_demo_calls_are_answered_and_decided(hub_server) -> None:
    stop = asyncio.Event()
    lines: list[str] = []
    collars = (await discover_demo_collars(hub_server.url))[8:10]
    stream = asyncio.create_task(
        run_demo_stream(
            hub_server.url,
            stop_event=stop,
            count=2,
            collars=collars,
            target_waiting=2,
            interval_s=(0.05, 0.1),
            cancel_probability=0.0,
            linger_after_decision_s=30.0,
            report=lines.append,
        )
    )
    try:
        async with HeadlessAnswerer(hub_server.url) as sergeant:
            served = await sergeant.serve(2, min_frames=5)
        stats = await asyncio.wait_for(stream, 90)
    finally:
        stop.set()
        if not stream.done():
            await asyncio.wait_for(stream, 90)
    assert stats.completed == 2, lines
    for call in served:
        assert call.decision is not None
        assert call.decision.state == RequestState.DECIDED
        assert call.decision.decision is not None
        reference = call.decision.decision.reference
        assert any(f"reference {reference}" in line for line in lines), lines
