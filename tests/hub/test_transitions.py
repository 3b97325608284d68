"""Every illegal (state, action) pair of the protocol's state table: 409, and nothing changes.

"Nothing changes" is checked three ways: the request as GET /requests/{id} shows it, its audit
timeline, and the console event stream. For the stream, a marker request is created after the
illegal action; once the marker's event arrives, any event the illegal action had written would
have arrived before it (ids are monotonic and delivered in order), so there must be none.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.hub.client import CONFIRM, FAKE_OFFER, EventStream, HubApi, expect
from tests.hub.conftest import World
from tests.hub.images import png_bytes

ACTIONS = [
    "claim",
    "answer",
    "connected",
    "release",
    "fail",
    "decision",
    "end",
    "hangup",
    "lease",
    "snapshot",
    "offer",
]

# docs/protocol.md "State machine": the legal actions per state, including the state-neutral
# holder actions (answer while claimed; lease and snapshots while claimed, connected, decided).
HOLDER_EXTRAS = {"lease", "snapshot"}
LEGAL: dict[str, set[str]] = {
    "queued": {"claim", "hangup", "offer"},
    "claimed": {
        "answer",
        "connected",
        "release",
        "fail",
        "decision",
        "hangup",
        "lease",
        "snapshot",
    },
    "connected": {"release", "fail", "decision", "hangup", "lease", "snapshot"},
    "decided": {"end", "hangup", "lease", "snapshot"},
    "ended": set(),
    "cancelled": set(),
    "failed": set(),
}

# The event that announces entering each state.
ENTERED_BY = {
    "queued": "request.created",
    "claimed": "request.claimed",
    "connected": "request.connected",
    "decided": "request.decided",
    "ended": "request.ended",
    "cancelled": "request.cancelled",
    "failed": "request.failed",
}

ILLEGAL = [(state, action) for state in LEGAL for action in ACTIONS if action not in LEGAL[state]]


async def bring_to(world: World, state: str) -> tuple[int, str]:
    """A request of this test in `state`, held by smith where a holder exists."""
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    if state == "queued":
        return rid, dev
    if state == "cancelled":
        expect(await api.hangup(dev, rid), 200)
        return rid, dev
    expect(await api.claim(smith, rid), 200)
    if state == "claimed":
        return rid, dev
    if state == "failed":
        expect(await api.fail(smith, rid), 200)
        return rid, dev
    expect(await api.answer(smith, rid), 200)
    expect(await api.connected(smith, rid), 200)
    if state == "connected":
        return rid, dev
    expect(await api.decide(smith, rid, CONFIRM, key=f"bring-{rid}"), 200)
    if state == "decided":
        return rid, dev
    expect(await api.end(smith, rid), 200)
    assert state == "ended"
    return rid, dev


async def attempt(world: World, action: str, rid: int, dev: str) -> Any:
    """Perform `action` as the caller who would normally do it."""
    api = world.api
    smith, jones = await world.op("smith"), await world.op("jones")
    match action:
        case "claim":
            # The realistic illegal claim is another sergeant trying to take it.
            return await api.claim(jones, rid)
        case "answer":
            return await api.answer(smith, rid)
        case "connected":
            return await api.connected(smith, rid)
        case "release":
            return await api.release(smith, rid)
        case "fail":
            return await api.fail(smith, rid)
        case "decision":
            return await api.decide(smith, rid, CONFIRM, key=f"illegal-{rid}")
        case "end":
            return await api.end(smith, rid)
        case "hangup":
            return await api.hangup(dev, rid)
        case "lease":
            return await api.lease(smith, rid)
        case "offer":
            return await api.call(
                "POST", f"/requests/{rid}/offer", dev, json_body={"sdp_offer": FAKE_OFFER}
            )
        case "snapshot":
            return await api.call(
                "POST",
                f"/requests/{rid}/snapshots",
                smith,
                content=png_bytes(),
                headers={"Content-Type": "image/png"},
            )
    raise AssertionError(action)


def allowed_codes(state: str, action: str) -> set[str]:
    """The 409 codes the doc allows for this pair."""
    if action == "claim" and state in ("claimed", "connected", "decided"):
        return {"claim_conflict", "illegal_transition"}
    # Holder actions on a request nobody holds (queued, cancelled) are also illegal_transition.
    return {"illegal_transition"}


async def snapshot(api: HubApi, op: str, rid: int) -> tuple[dict[str, Any], int]:
    detail = await api.detail(op, rid)
    return detail["request"], len(detail["audit"])


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
async def test_illegal_transition_is_409_and_changes_nothing(
    world: World, state: str, action: str
) -> None:
    api = world.api
    admin = await world.op("admin")
    async with EventStream(api, "/events", admin, last_event_id=0) as stream:
        rid, dev = await bring_to(world, state)
        if state in ("claimed", "connected", "decided"):
            # Renew so the 3 s test lease cannot lapse between the two snapshots.
            expect(await api.lease(await world.op("smith"), rid), 200)
        # Everything up to now must have arrived before we take the "before" picture.
        await stream.wait_for_event(ENTERED_BY[state], rid)
        before_events = len(stream.of_request(rid))
        before, before_audit = await snapshot(api, admin, rid)
        assert before["state"] == state

        resp = await attempt(world, action, rid, dev)
        body = expect(resp, 409)
        assert body["error"] in allowed_codes(state, action), body

        marker, _ = await world.new_request()
        await stream.wait_for_event("request.created", marker)
        after, after_audit = await snapshot(api, admin, rid)

    assert after == before
    assert after_audit == before_audit
    assert len(stream.of_request(rid)) == before_events, [
        (e.id, e.event) for e in stream.of_request(rid)
    ]
