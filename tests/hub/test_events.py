"""Event streams: ordering, resume after a disconnect mid-burst, heartbeats, device streams."""

from __future__ import annotations

import asyncio

import pytest

from tests.hub.client import FAKE_OFFER, EventStream, HubApi, SseEvent, expect
from tests.hub.conftest import World

BURST_CYCLES = 60  # claim + release = 2 events each


async def burst(
    api: HubApi, op: str, rids: list[int], cycles: int, halfway: asyncio.Event | None = None
) -> None:
    """Claim and release the given requests round-robin: 2 events per cycle.

    With `halfway`, the second half waits for it, so some events surely happen after it is set.
    """
    for n in range(cycles):
        if halfway is not None and n == cycles // 2:
            async with asyncio.timeout(30):
                await halfway.wait()
        rid = rids[n % len(rids)]
        expect(await api.claim(op, rid), 200)
        expect(await api.release(op, rid), 200)


def ids_of(events: list[SseEvent]) -> list[int]:
    ids = [e.id for e in events]
    assert all(i is not None for i in ids), "every event must carry an id"
    return [i for i in ids if i is not None]


@pytest.mark.parametrize("resume_by", ["header", "query"])
async def test_resume_after_disconnect_mid_burst_has_no_gap_and_no_duplicate(
    world: World, resume_by: str
) -> None:
    api = world.api
    smith, patel = await world.op("smith"), await world.op("patel")
    rids = [(await world.new_request())[0] for _ in range(3)]
    done_marker: int | None = None

    # The reference subscriber stays connected through the whole burst.
    async with EventStream(api, "/events", patel, last_event_id=0) as reference:
        first = EventStream(api, "/events", smith, last_event_id=0)
        producer: asyncio.Task[None] | None = None
        try:
            await first.__aenter__()  # entered by hand: it is closed mid-test, not at the end
            await first.wait_for_event("request.created", rids[-1])
            start_id = max(ids_of(first.events))
            disconnected = asyncio.Event()
            producer = asyncio.create_task(
                burst(api, smith, rids, BURST_CYCLES, halfway=disconnected)
            )
            # Drop the connection once part of the burst has arrived, while it is still going.
            await first.wait_until(
                lambda s: sum(1 for e in s.events if (e.id or 0) > start_id) >= 20,
                what="20 burst events",
            )
            await first.close()  # events still in flight on this connection are lost to it
            disconnected.set()  # ...and the second half of the burst happens while away
            seen = list(first.events)
            last_seen = max(ids_of(seen))

            resumed = EventStream(
                api, "/events", smith, last_event_id=last_seen, use_query=resume_by == "query"
            )
            async with resumed:
                async with asyncio.timeout(60):
                    await producer
                done_marker = (await world.new_request())[0]
                await resumed.wait_for_event("request.created", done_marker, timeout=20)
            await reference.wait_for_event("request.created", done_marker, timeout=20)
        finally:
            if producer is not None:
                producer.cancel()
            await first.close()

    assert any(e.request_id in rids for e in resumed.events), "resume had nothing to replay"
    combined = ids_of(seen) + ids_of(resumed.events)
    assert len(combined) == len(set(combined)), "an event was delivered twice"
    assert combined == sorted(combined), "events out of order"
    expected = [i for i in ids_of(reference.events) if i <= max(combined)]
    assert combined == expected, "resumed stream differs from the uninterrupted one"
    burst_events = [e for e in reference.events if (e.id or 0) > start_id and e.request_id in rids]
    assert len(burst_events) == 2 * BURST_CYCLES


async def test_event_ids_increase_and_payload_matches_schema(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    async with EventStream(api, "/events", smith, last_event_id=0) as stream:
        rid, _ = await world.new_request()
        expect(await api.claim(smith, rid), 200)
        expect(await api.release(smith, rid), 200)
        await stream.wait_for_event("request.released", rid)
    ids = ids_of(stream.events)
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    for event in stream.of_request(rid):
        payload = event.json()
        assert payload["id"] == event.id
        assert payload["type"] == event.event
        assert payload["request"]["id"] == rid
        assert payload["at"]


async def test_heartbeat_comments_arrive(world: World) -> None:
    # The module hub sends a heartbeat every second.
    smith = await world.op("smith")
    async with EventStream(world.api, "/events", smith) as stream:
        await stream.wait_until(
            lambda s: any("heartbeat" in c for c in s.comments), timeout=10, what="a heartbeat"
        )


@pytest.mark.parametrize("value", ["abc", "-5", "1e9", "99999999999999999999999", "1 2"])
@pytest.mark.parametrize("resume_by", ["header", "query"])
async def test_bad_last_event_id_is_never_a_server_error(
    world: World, value: str, resume_by: str
) -> None:
    smith = await world.op("smith")
    stream = EventStream(
        world.api, "/events", smith, last_event_id=value, use_query=resume_by == "query"
    )
    async with stream:
        pass
    # Either refused as bad input, or ignored (a live stream from now): never a 500.
    assert stream.status in (200, 400, 422), stream.status
    if stream.status != 200:
        assert stream.error_body is not None
        assert stream.error_body.get("error")


async def test_device_stream_is_own_request_only(world: World) -> None:
    api = world.api
    rid, _ = await world.new_request()
    other_device = await world.device()
    async with EventStream(api, f"/requests/{rid}/device-events", other_device) as stream:
        pass
    # docs/protocol.md: another device's request does not exist as far as a device is concerned.
    assert stream.status == 404
    expect(await api.call("GET", f"/requests/{rid}/device", other_device), 404, "not_found")
    expect(await api.hangup(other_device, rid), 404, "not_found")
    expect(
        await api.call(
            "POST", f"/requests/{rid}/offer", other_device, json_body={"sdp_offer": FAKE_OFFER}
        ),
        404,
        "not_found",
    )


async def test_device_stream_resumes_with_last_event_id(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    path = f"/requests/{rid}/device-events"
    async with EventStream(api, path, dev, last_event_id=0) as first:
        expect(await api.claim(smith, rid), 200)
        expect(await api.answer(smith, rid), 200)
        answered = await first.wait_for_event("request.answered", rid)
    assert answered.id is not None
    expect(await api.connected(smith, rid), 200)
    expect(await api.decide(smith, rid, key="dev-resume"), 200)
    async with EventStream(api, path, dev, last_event_id=answered.id) as second:
        decided = await second.wait_for_event("request.decided", rid)
    assert all((e.id or 0) > answered.id for e in second.events)
    assert decided.json()["request"]["reference"]
    types = [e.event for e in second.events]
    assert "request.answered" not in types


@pytest.mark.parametrize("resume_by", ["header", "query"])
async def test_a_cursor_ahead_of_the_hub_is_refused_not_left_waiting(
    world: World, resume_by: str
) -> None:
    """A cursor newer than anything stored means the hub's database was replaced or restored:
    waiting on it would hide every new event (docs/protocol.md, `cursor_ahead`)."""
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    async with EventStream(api, "/events", smith, last_event_id=0) as replay:
        created = await replay.wait_for_event("request.created", rid)
    assert created.id is not None
    use_query = resume_by == "query"
    ahead = created.id + 1_000_000
    for path, token in (("/events", smith), (f"/requests/{rid}/device-events", dev)):
        async with EventStream(api, path, token, last_event_id=ahead, use_query=use_query) as s:
            pass
        assert s.status == 409, (path, s.status)
        assert s.error_body is not None
        assert s.error_body["error"] == "cursor_ahead"
    # A cursor the hub has (here: one it already sent) still resumes normally.
    async with EventStream(api, "/events", smith, last_event_id=created.id) as resumed:
        expect(await api.claim(smith, rid), 200)
        claimed = await resumed.wait_for_event("request.claimed", rid)
    assert resumed.status == 200
    assert claimed.id is not None
    assert claimed.id > created.id
