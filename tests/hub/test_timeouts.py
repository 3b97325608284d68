"""Time-driven exits: a lapsed claim lease, and a request nobody answers in time.

Every wait is on the hub's own event (`request.released`, `request.expired`), with a deadline a
little beyond the bound the protocol promises; nothing sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest

from hub.server import HubServer
from tests.hub.client import CONFIRM, EventStream, HubApi, expect
from tests.hub.conftest import World, discover_collars, start_hub


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


LEASE_SECONDS = 3.0  # the module hub's (see conftest.start_hub)
EXPIRE_AFTER_SECONDS = 1.5
SLACK_SECONDS = 5.0  # shared 2-core machine: generous, it is a deadline not a speed check


async def test_lapsed_lease_returns_request_to_queue(world: World) -> None:
    api = world.api
    smith, jones = await world.op("smith"), await world.op("jones")
    async with EventStream(api, "/events", jones, last_event_id=0) as stream:
        rid, _ = await world.new_request()
        claim = expect(await api.claim(smith, rid), 200)
        released = await stream.wait_for_event(
            "request.released", rid, timeout=LEASE_SECONDS + 1 + SLACK_SECONDS
        )
    request = released.json()["request"]
    assert request["state"] == "queued"
    assert request["holder"] is None
    # The protocol's bound, read from the hub's own clocks: not before the lease ran out, and
    # within 1 s after (plus slack for a loaded 2-core machine's reaper thread).
    lease_end = parse_time(claim["request"]["lease_expires_at"])
    late = (parse_time(released.json()["at"]) - lease_end).total_seconds()
    assert 0 <= late <= 1 + 2, late
    detail = await api.detail(jones, rid)
    assert detail["request"]["state"] == "queued"
    assert any(entry["actor"] == "hub" for entry in detail["audit"]), detail["audit"]
    # The old holder lost it; another sergeant may take it.
    expect(await api.connected(smith, rid), 409)
    expect(await api.claim(jones, rid), 200)


async def test_renewed_lease_keeps_the_claim(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    async with EventStream(api, "/events", smith, last_event_id=0) as stream:
        rid, _ = await world.new_request()
        expect(await api.claim(smith, rid), 200)
        # The 1 s heartbeats are the clock: renew on each for well over one lease period.
        renewals = 0
        while renewals < 2 * LEASE_SECONDS:
            await stream.wait_until(
                lambda s, n=renewals: len(s.comments) > n, timeout=5, what="a heartbeat"
            )
            renewed = expect(await api.lease(smith, rid), 200)
            assert renewed["state"] == "claimed"
            renewals += 1
        assert len(stream.comments) >= 2 * LEASE_SECONDS
    assert not [e for e in stream.of_request(rid) if e.event == "request.released"]
    assert await api.state(smith, rid) == "claimed"


async def test_lapsed_lease_after_device_left_fails_the_request(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    async with EventStream(api, "/events", smith, last_event_id=0) as stream:
        rid, dev = await world.new_request()
        expect(await api.claim(smith, rid), 200)
        expect(await api.connected(smith, rid), 200)
        expect(await api.hangup(dev, rid), 200)
        failed = await stream.wait_for_event(
            "request.failed", rid, timeout=LEASE_SECONDS + 1 + SLACK_SECONDS
        )
    assert failed.json()["request"]["state"] == "failed"
    assert not [e for e in stream.of_request(rid) if e.event == "request.released"]


# ------------------------------------------------------------------------- expiry


@pytest.fixture(scope="module")
def expiring_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    """A hub that expires unanswered requests after 1.5 s."""
    server = start_hub(tmp_path_factory.mktemp("expiry"), expire_after_seconds=EXPIRE_AFTER_SECONDS)
    yield server
    server.stop()


@pytest.fixture
async def expired_request(expiring_hub: HubServer) -> AsyncIterator[tuple[HubApi, int, str]]:
    """(client, request id, device token) of a request the hub has expired."""
    collars = discover_collars(expiring_hub.url)
    async with HubApi(expiring_hub.url) as api:
        smith = await api.login("smith")
        # Find a device that is free (an earlier test's request has expired by now).
        for collar in collars:
            dev = await api.device_token(collar)
            resp = await api.call("POST", "/requests", dev, json_body={"sdp_offer": "v=0 " * 10})
            if resp.status_code == 201:
                rid = resp.json()["id"]
                break
        else:
            raise AssertionError("no free demo device")
        async with EventStream(api, "/events", smith, last_event_id=0) as stream:
            await stream.wait_for_event(
                "request.expired", rid, timeout=EXPIRE_AFTER_SECONDS + 1 + SLACK_SECONDS
            )
        yield api, rid, dev


async def test_unanswered_request_expires_and_device_is_told(
    expired_request: tuple[HubApi, int, str],
) -> None:
    api, rid, dev = expired_request
    patel = await api.login("patel")  # supervisors read every call; sergeants only their own
    assert await api.state(patel, rid) == "expired"
    own = expect(await api.call("GET", f"/requests/{rid}/device", dev), 200)
    assert own["state"] == "expired"
    assert own["queue_position"] is None
    async with EventStream(api, f"/requests/{rid}/device-events", dev, 0) as device:
        await device.wait_for_event("request.expired", rid)
    active = expect(await api.call("GET", "/requests", patel, params={"active": "true"}), 200)
    assert rid not in [r["id"] for r in active]


@pytest.mark.parametrize(
    "action", ["claim", "connected", "release", "fail", "decision", "end", "hangup"]
)
async def test_expired_request_refuses_every_action(
    expired_request: tuple[HubApi, int, str], action: str
) -> None:
    api, rid, dev = expired_request
    smith, patel = await api.login("smith"), await api.login("patel")
    before = await api.detail(patel, rid)
    match action:
        case "claim":
            resp = await api.claim(smith, rid)
        case "connected":
            resp = await api.connected(smith, rid)
        case "release":
            resp = await api.release(smith, rid)
        case "fail":
            resp = await api.fail(smith, rid)
        case "decision":
            resp = await api.decide(smith, rid, CONFIRM, key="expired-1")
        case "end":
            resp = await api.end(smith, rid)
        case _:
            resp = await api.hangup(dev, rid)
    # Nobody holds an expired request: every action is simply illegal now.
    expect(resp, 409, "illegal_transition")
    assert await api.detail(patel, rid) == before


async def test_lapsed_lease_after_decision_ends_the_request(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    async with EventStream(api, "/events", smith, last_event_id=0) as stream:
        rid, _ = await world.new_request()
        expect(await api.claim(smith, rid), 200)
        expect(await api.connected(smith, rid), 200)
        expect(await api.decide(smith, rid, CONFIRM, key="vanished"), 200)
        # The console vanishes after deciding: the hub ends the call itself.
        ended = await stream.wait_for_event(
            "request.ended", rid, timeout=LEASE_SECONDS + 1 + SLACK_SECONDS
        )
    request = ended.json()["request"]
    assert request["state"] == "ended"
    assert request["decision"]["outcome"] == "confirmed"
