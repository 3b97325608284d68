"""The request lifecycle over real HTTP against the real hub: every legal path of the table."""

from __future__ import annotations

import re

from tests.hub.client import (
    CONFIRM,
    FAKE_ANSWER,
    FAKE_OFFER,
    REFUSE,
    EventStream,
    expect,
)
from tests.hub.conftest import World
from tests.hub.images import png_bytes

REFERENCE = re.compile(r"^SC-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$")


async def test_happy_path_queued_to_ended_reaches_console_and_device(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    async with EventStream(api, "/events", smith, last_event_id=0) as console:
        rid, dev = await world.new_request()
        async with EventStream(api, f"/requests/{rid}/device-events", dev, 0) as device:
            created = await console.wait_for_event("request.created", rid)
            assert created.json()["request"]["state"] == "queued"

            own = expect(await api.call("GET", f"/requests/{rid}/device", dev), 200)
            assert own["state"] == "queued"
            assert own["queue_position"] is not None
            assert own["queue_position"] >= 1

            claim = expect(await api.claim(smith, rid), 200)
            assert claim["sdp_offer"] == FAKE_OFFER
            assert claim["ice_servers"] == []
            assert claim["request"]["state"] == "claimed"
            assert claim["request"]["holder"]
            assert "smith" in claim["request"]["holder"].lower()
            assert claim["request"]["lease_expires_at"] is not None

            expect(await api.answer(smith, rid), 200)
            answered = await device.wait_for_event("request.answered", rid)
            assert answered.json()["request"]["sdp_answer"] == FAKE_ANSWER
            assert answered.json()["request"]["answered_by"]

            connected = expect(await api.connected(smith, rid), 200)
            assert connected["state"] == "connected"
            assert connected["connected_at"] is not None

            decided = expect(await api.decide(smith, rid, CONFIRM, key="happy-1"), 200)
            assert decided["state"] == "decided"
            reference = decided["decision"]["reference"]
            assert REFERENCE.match(reference), reference
            assert decided["decision"]["outcome"] == "confirmed"

            pushed = await device.wait_for_event("request.decided", rid)
            assert pushed.json()["request"]["reference"] == reference
            assert pushed.json()["request"]["outcome"] == "confirmed"
            assert pushed.json()["request"]["reason_label"]

            ended = expect(await api.end(smith, rid), 200)
            assert ended["state"] == "ended"
            assert ended["ended_at"] is not None
            await device.wait_for_event("request.ended", rid)
        await console.wait_for_event("request.ended", rid)

    types = [e.event for e in console.of_request(rid)]
    assert types == [
        "request.created",
        "request.claimed",
        "request.answered",
        "request.connected",
        "request.decided",
        "request.ended",
    ], types
    ids = [e.id for e in console.events]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)

    detail = await api.detail(smith, rid)
    assert detail["request"]["decision"]["reference"] == reference
    assert len(detail["audit"]) >= 6, detail["audit"]
    final = expect(await api.call("GET", f"/requests/{rid}/device", dev), 200)
    assert final["reference"] == reference
    assert final["state"] == "ended"


async def test_release_returns_request_to_queue_for_another_sergeant(world: World) -> None:
    api = world.api
    smith, jones = await world.op("smith"), await world.op("jones")
    rid, _ = await world.new_request()
    expect(await api.claim(smith, rid), 200)
    released = expect(await api.release(smith, rid), 200)
    assert released["state"] == "queued"
    assert released["holder"] is None
    claim = expect(await api.claim(jones, rid), 200)
    assert "jones" in claim["request"]["holder"].lower()


async def test_release_from_connected(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    rid, _ = await world.new_request()
    expect(await api.claim(smith, rid), 200)
    expect(await api.answer(smith, rid), 200)
    expect(await api.connected(smith, rid), 200)
    assert expect(await api.release(smith, rid), 200)["state"] == "queued"


async def test_hangup_while_queued_cancels(world: World) -> None:
    api = world.api
    patel = await world.op("patel")  # a sergeant may not open a call he never handled
    rid, dev = await world.new_request()
    expect(await api.hangup(dev, rid), 200)
    assert await api.state(patel, rid) == "cancelled"


async def test_hangup_while_claimed_cancels(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    expect(await api.claim(smith, rid), 200)
    expect(await api.hangup(dev, rid), 200)
    assert await api.state(smith, rid) == "cancelled"


async def test_hangup_while_connected_leaves_only_a_decision(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    expect(await api.claim(smith, rid), 200)
    expect(await api.connected(smith, rid), 200)
    expect(await api.hangup(dev, rid), 200)
    request = (await api.detail(smith, rid))["request"]
    assert request["state"] == "connected"
    assert request["device_left"] is True
    # Deciding after the device left ends the request at once.
    refused = {**REFUSE, "reason_code": "officer_ended_call"}
    expect(await api.decide(smith, rid, refused, key="left-1"), 200)
    assert await api.state(smith, rid) == "ended"


async def test_hangup_after_decision_ends(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    expect(await api.claim(smith, rid), 200)
    expect(await api.connected(smith, rid), 200)
    expect(await api.decide(smith, rid, REFUSE, key="r-1"), 200)
    expect(await api.hangup(dev, rid), 200)
    assert await api.state(smith, rid) == "ended"


async def test_fail_from_claimed_and_connected(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    first, _ = await world.new_request()
    expect(await api.claim(smith, first), 200)
    expect(await api.fail(smith, first, "no media"), 200)
    assert await api.state(smith, first) == "failed"

    second, _ = await world.new_request()
    expect(await api.claim(smith, second), 200)
    expect(await api.connected(smith, second), 200)
    expect(await api.fail(smith, second, "media dropped"), 200)
    assert await api.state(smith, second) == "failed"


async def test_one_active_request_per_device(world: World) -> None:
    api = world.api
    rid, dev = await world.new_request()
    expect(
        await api.call("POST", "/requests", dev, json_body={"sdp_offer": FAKE_OFFER}),
        409,
        "already_active",
    )
    # After the first ends, the same device may call again.
    expect(await api.hangup(dev, rid), 200)
    again = await api.create_request(dev)
    world.created.append((again["id"], dev))
    assert again["state"] == "queued"


async def test_only_the_holder_may_act(world: World) -> None:
    api = world.api
    smith, jones = await world.op("smith"), await world.op("jones")
    rid, _ = await world.new_request()
    expect(await api.claim(smith, rid), 200)
    for resp in (
        await api.connected(jones, rid),
        await api.answer(jones, rid),
        await api.release(jones, rid),
        await api.fail(jones, rid),
        await api.decide(jones, rid, CONFIRM, key="nh-1"),
        await api.lease(jones, rid),
    ):
        expect(resp, 409, "not_holder")
    request = (await api.detail(smith, rid))["request"]
    assert request["state"] == "claimed"
    assert "smith" in request["holder"].lower()


async def test_active_list_is_oldest_first_and_excludes_terminal(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    first, _ = await world.new_request()
    second, _ = await world.new_request()
    gone, gone_dev = await world.new_request()
    expect(await api.hangup(gone_dev, gone), 200)
    active = expect(await api.call("GET", "/requests", smith, params={"active": "true"}), 200)
    ids = [r["id"] for r in active]
    assert first in ids
    assert second in ids
    assert gone not in ids
    assert ids.index(first) < ids.index(second)
    created = [r["created_at"] for r in active]
    assert created == sorted(created)


async def test_device_and_officer_views(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    me = expect(await api.call("GET", "/device/me", dev), 200)
    request = (await api.detail(smith, rid))["request"]
    assert request["officer"]["id"] == me["id"]
    assert request["officer"]["collar_number"] == me["collar_number"]
    officer = expect(await api.call("GET", f"/officers/{me['id']}", smith), 200)
    assert officer["collar_number"] == me["collar_number"]
    photo = await api.call("GET", f"/officers/{me['id']}/photo", smith)
    assert photo.status_code == 200
    assert photo.headers["content-type"] in ("image/png", "image/jpeg")
    assert photo.content[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")
    own_photo = await api.call("GET", "/device/photo", dev)
    assert own_photo.status_code == 200
    assert own_photo.content == photo.content


async def test_release_after_device_left_fails_instead_of_requeueing(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    expect(await api.claim(smith, rid), 200)
    expect(await api.connected(smith, rid), 200)
    expect(await api.hangup(dev, rid), 200)
    released = expect(await api.release(smith, rid), 200)
    assert released["state"] == "failed"


async def test_snapshot_is_listed_on_the_request(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    rid, _ = await world.new_request()
    expect(await api.claim(smith, rid), 200)
    image = png_bytes()
    snap = expect(
        await api.call(
            "POST",
            f"/requests/{rid}/snapshots",
            smith,
            content=image,
            headers={"Content-Type": "image/png"},
        ),
        201,
    )
    assert snap["request_id"] == rid
    detail = await api.detail(smith, rid)
    assert [s["id"] for s in detail["snapshots"]] == [snap["id"]]
    stored = await api.call("GET", f"/snapshots/{snap['id']}", smith)
    assert stored.content == image


async def test_config_tells_clients_the_hub_timings(world: World) -> None:
    api = world.api
    for token in (await world.op("smith"), await world.device()):
        config = expect(await api.call("GET", "/config", token), 200)
        assert config["ice_servers"] == []
        assert config["lease_seconds"] == 3.0
        assert config["expire_after_seconds"] == 60.0
        assert config["heartbeat_seconds"] == 1.0
        assert config["server_time"].endswith("Z")


async def test_replaced_offer_is_what_the_claimer_gets(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    fresh = FAKE_OFFER.replace("VP8", "VP8 ").replace("4611731400430051336", "42")
    view = expect(
        await api.call("POST", f"/requests/{rid}/offer", dev, json_body={"sdp_offer": fresh}),
        200,
    )
    assert view["state"] == "queued"
    claim = expect(await api.claim(smith, rid), 200)
    assert claim["sdp_offer"] == fresh
