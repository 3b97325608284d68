"""Decisions: Idempotency-Key semantics, reason rules, references, and a hub crash mid-decision."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from tests.hub.cli_hub import CliHub
from tests.hub.client import CONFIRM, REFUSE, EventStream, HubApi, expect
from tests.hub.conftest import World

REFERENCE = re.compile(r"^SC-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$")


async def connected_request(world: World) -> tuple[int, str, str]:
    """(request id, device token, smith's token) for a request smith has connected."""
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    expect(await api.claim(smith, rid), 200)
    expect(await api.answer(smith, rid), 200)
    expect(await api.connected(smith, rid), 200)
    return rid, dev, smith


async def test_retry_with_same_key_returns_first_result_and_writes_nothing(world: World) -> None:
    api = world.api
    async with EventStream(api, "/events", await world.op("patel"), last_event_id=0) as stream:
        rid, _, smith = await connected_request(world)
        first = expect(await api.decide(smith, rid, CONFIRM, key="same-key"), 200)
        audit_before = len((await api.detail(smith, rid))["audit"])
        second = expect(await api.decide(smith, rid, CONFIRM, key="same-key"), 200)
        third = expect(await api.decide(smith, rid, CONFIRM, key="same-key"), 200)
        marker, _ = await world.new_request()
        await stream.wait_for_event("request.created", marker)
    assert REFERENCE.match(first["decision"]["reference"])
    assert second["decision"] == first["decision"]
    assert third["decision"] == first["decision"]
    assert len((await api.detail(smith, rid))["audit"]) == audit_before
    decided = [e for e in stream.of_request(rid) if e.event == "request.decided"]
    assert len(decided) == 1


async def test_same_key_with_changed_body_is_rejected_and_changes_nothing(world: World) -> None:
    api = world.api
    rid, _, smith = await connected_request(world)
    first = expect(await api.decide(smith, rid, CONFIRM, key="k-change"), 200)
    before = await api.detail(smith, rid)
    expect(await api.decide(smith, rid, REFUSE, key="k-change"), 422, "idempotency_mismatch")
    changed_notes = {**CONFIRM, "notes": "something else"}
    expect(await api.decide(smith, rid, changed_notes, key="k-change"), 422, "idempotency_mismatch")
    after = await api.detail(smith, rid)
    assert after == before
    assert after["request"]["decision"]["reference"] == first["decision"]["reference"]


async def test_second_decision_with_new_key_is_illegal(world: World) -> None:
    api = world.api
    rid, _, smith = await connected_request(world)
    expect(await api.decide(smith, rid, CONFIRM, key="first"), 200)
    expect(await api.decide(smith, rid, REFUSE, key="second"), 409, "illegal_transition")
    assert (await api.detail(smith, rid))["request"]["decision"]["outcome"] == "confirmed"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param(CONFIRM, {}, id="missing-key"),
        pytest.param(CONFIRM, {"Idempotency-Key": "k" * 101}, id="key-too-long"),
        pytest.param(
            {**CONFIRM, "reason_code": "face_mismatch"}, {"Idempotency-Key": "a"}, id="confirm-bad"
        ),
        pytest.param(
            {**REFUSE, "reason_code": "identity_confirmed"},
            {"Idempotency-Key": "b"},
            id="refuse-with-confirm-reason",
        ),
        pytest.param(
            {"outcome": "refused", "reason_code": "other", "notes": ""},
            {"Idempotency-Key": "c"},
            id="other-without-notes",
        ),
        pytest.param(
            {**CONFIRM, "notes": "x" * 4001}, {"Idempotency-Key": "d"}, id="notes-too-long"
        ),
        pytest.param({**CONFIRM, "verdict": "yes"}, {"Idempotency-Key": "e"}, id="unknown-field"),
        pytest.param(
            {**CONFIRM, "checklist": {"looks_nice": True}}, {"Idempotency-Key": "f"}, id="checklist"
        ),
    ],
)
async def test_invalid_decision_is_422_and_changes_nothing(
    world: World, body: dict[str, object], headers: dict[str, str]
) -> None:
    api = world.api
    rid, _, smith = await connected_request(world)
    before = await api.detail(smith, rid)
    resp = await api.call(
        "POST", f"/requests/{rid}/decision", smith, json_body=body, headers=headers
    )
    expect(resp, 422)
    after = await api.detail(smith, rid)
    assert after["request"]["state"] == "connected"
    assert after["audit"] == before["audit"]


async def test_other_with_notes_is_accepted(world: World) -> None:
    api = world.api
    rid, _, smith = await connected_request(world)
    body = {"outcome": "refused", "reason_code": "other", "notes": "Refused to show card"}
    decided = expect(await api.decide(smith, rid, body, key="other-ok"), 200)
    assert decided["decision"]["notes"] == "Refused to show card"
    assert decided["decision"]["reason_code"] == "other"


# ------------------------------------------------------------------ crash between decision and ack


def cli_hub(tmp_path: Path) -> CliHub:
    return CliHub(tmp_path / "hub.db", tmp_path / "hub.log", "--demo", "--lease-seconds", "60")


async def prepare_connected(api: HubApi) -> tuple[str, str, int]:
    smith = await api.login("smith")
    dev = await api.device_token("1001CW")
    rid = (await api.create_request(dev))["id"]
    expect(await api.claim(smith, rid), 200)
    expect(await api.answer(smith, rid), 200)
    expect(await api.connected(smith, rid), 200)
    return smith, dev, rid


async def assert_exactly_one_decision(api: HubApi, op: str, dev: str, rid: int) -> str:
    """One decision, one reference, seen the same by console, history and device."""
    detail = await api.detail(op, rid)
    reference = detail["request"]["decision"]["reference"]
    decisions = [a for a in detail["audit"] if "decid" in a["action"]]
    assert len(decisions) == 1, detail["audit"]
    page = expect(await api.call("GET", "/history", op, params={"reference": reference}), 200)
    assert [item["id"] for item in page["items"]] == [rid]
    own = expect(await api.call("GET", f"/requests/{rid}/device", dev), 200)
    assert own["reference"] == reference
    return reference


@pytest.mark.slow
async def test_decision_survives_hub_crash_before_acknowledgement(tmp_path: Path) -> None:
    hub = cli_hub(tmp_path).start()
    try:
        async with HubApi(hub.url) as api:
            smith, dev, rid = await prepare_connected(api)
            first = expect(await api.decide(smith, rid, CONFIRM, key="crash-key"), 200)
        # The console never saw that answer: the hub dies, comes back, the console retries.
        hub.kill()
        hub.start()
        async with HubApi(hub.url) as api:
            retry = expect(await api.decide(smith, rid, CONFIRM, key="crash-key"), 200)
            assert retry["decision"]["reference"] == first["decision"]["reference"]
            reference = await assert_exactly_one_decision(api, smith, dev, rid)
            assert reference == first["decision"]["reference"]
            expect(await api.decide(smith, rid, REFUSE, key="crash-key"), 422)
    finally:
        hub.stop()
    # The hub's own output (stderr, default log level) never shows a password or a token.
    output = hub.output()
    assert "decid" in output.lower() or "claim" in output.lower(), output[-2000:]
    for secret in ("smith-demo", smith, dev):
        assert secret not in output


@pytest.mark.slow
async def test_decision_in_flight_when_hub_is_killed_is_neither_lost_nor_doubled(
    tmp_path: Path,
) -> None:
    hub = cli_hub(tmp_path).start()
    try:
        async with HubApi(hub.url) as api:
            smith, dev, rid = await prepare_connected(api)
        # Send the whole request on a raw socket and kill the hub without reading the answer:
        # whether it committed or not is up to the hub; either way the retry must settle it.
        body = json.dumps(CONFIRM).encode()
        head = (
            f"POST /api/v1/requests/{rid}/decision HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {smith}\r\nIdempotency-Key: flight-key\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", hub.port), timeout=5) as sock:
            sock.sendall(head + body)
            hub.kill()
        hub.start()
        async with HubApi(hub.url) as api:
            retry = expect(await api.decide(smith, rid, CONFIRM, key="flight-key"), 200)
            again = expect(await api.decide(smith, rid, CONFIRM, key="flight-key"), 200)
            assert again["decision"] == retry["decision"]
            reference = await assert_exactly_one_decision(api, smith, dev, rid)
            assert reference == retry["decision"]["reference"]
    finally:
        hub.stop()
