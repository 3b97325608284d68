"""Authentication and roles: every endpoint x {anonymous, device, sergeant, supervisor}.

The table below is checked against the hub's own `/openapi.json`, so an endpoint added to the hub
without a row here fails `test_matrix_covers_every_api_endpoint`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from tests.hub.cli_hub import run_cli
from tests.hub.client import (
    CONFIRM,
    FAKE_ANSWER,
    FAKE_OFFER,
    EventStream,
    HubApi,
    assert_error_body,
    expect,
)
from tests.hub.conftest import World, start_hub
from tests.hub.images import png_bytes

CALLERS = ["anonymous", "device", "sergeant", "supervisor"]

# Who may call (docs/protocol.md "Endpoints" and "Authentication").
RULES: dict[str, dict[str, str]] = {
    # rule name: caller -> "ok" (authorised) | "401" | "403"
    "operator": {"anonymous": "401", "device": "403", "sergeant": "ok", "supervisor": "ok"},
    "device": {"anonymous": "401", "device": "ok", "sergeant": "403", "supervisor": "403"},
    "anyone_signed_in": {"anonymous": "401", "device": "ok", "sergeant": "ok", "supervisor": "ok"},
    "supervisor": {"anonymous": "401", "device": "403", "sergeant": "403", "supervisor": "ok"},
    "admin": {"anonymous": "401", "device": "403", "sergeant": "403", "supervisor": "403"},
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {rid} = a request of this test, {sid} = a snapshot, {oid} = an officer
    rule: str
    json_body: Any = None
    content: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    stream: bool = False
    read_ok: bool = False  # an authorised caller must get exactly 200

    @property
    def key(self) -> tuple[str, str]:
        return self.method, normalise(self.path)


ENDPOINTS = [
    Endpoint("POST", "/auth/logout", "operator"),
    Endpoint("GET", "/auth/me", "operator", read_ok=True),
    Endpoint("GET", "/config", "anyone_signed_in", read_ok=True),
    Endpoint("POST", "/requests", "device", json_body={"sdp_offer": FAKE_OFFER}),
    Endpoint("GET", "/requests/{rid}/device", "device", read_ok=True),
    Endpoint("GET", "/requests/{rid}/device-events", "device", stream=True),
    Endpoint("POST", "/requests/{rid}/hangup", "device"),
    Endpoint("GET", "/requests", "operator", read_ok=True),
    Endpoint("GET", "/requests/{rid}", "operator", read_ok=True),
    Endpoint("POST", "/requests/{rid}/claim", "operator"),
    Endpoint("POST", "/requests/{rid}/lease", "operator"),
    Endpoint("POST", "/requests/{rid}/answer", "operator", json_body={"sdp_answer": FAKE_ANSWER}),
    Endpoint("POST", "/requests/{rid}/connected", "operator"),
    Endpoint("POST", "/requests/{rid}/release", "operator"),
    Endpoint("POST", "/requests/{rid}/fail", "operator", json_body={"detail": "x"}),
    Endpoint(
        "POST",
        "/requests/{rid}/decision",
        "operator",
        json_body=CONFIRM,
        headers=(("Idempotency-Key", "auth-matrix"),),
    ),
    Endpoint("POST", "/requests/{rid}/end", "operator"),
    Endpoint(
        "POST",
        "/requests/{rid}/snapshots",
        "operator",
        content=png_bytes(),
        headers=(("Content-Type", "image/png"),),
    ),
    Endpoint("GET", "/snapshots/{sid}", "operator", read_ok=True),
    Endpoint("GET", "/officers/{oid}", "operator", read_ok=True),
    Endpoint("GET", "/officers/{oid}/photo", "operator", read_ok=True),
    Endpoint("GET", "/events", "operator", stream=True),
    Endpoint("GET", "/history", "operator", read_ok=True),
    Endpoint("GET", "/history/export.csv", "supervisor", read_ok=True),
    Endpoint("GET", "/history/stats", "operator", read_ok=True),
    # The directory for the History filter pickers.
    Endpoint("GET", "/operators", "supervisor", read_ok=True),
    Endpoint("GET", "/officers", "operator", read_ok=True),
    Endpoint("GET", "/device/me", "device", read_ok=True),
    Endpoint("GET", "/device/photo", "device", read_ok=True),
    # Device enrolment and administration.
    Endpoint("POST", "/requests/{rid}/offer", "device", json_body={"sdp_offer": FAKE_OFFER}),
    Endpoint("POST", "/enrolment-codes", "admin", json_body={"collar_number": "1001CW"}),
    Endpoint("POST", "/devices/{did}/revoke", "admin"),
    Endpoint("POST", "/operators/{user}/unlock", "admin"),
]

# Reachable without credentials by design.
PUBLIC = {
    ("POST", "/auth/login"),
    ("POST", "/devices/enrol"),
    ("POST", "/demo/device-token"),
}


async def caller_token(world: World, caller: str, device: str) -> str | None:
    match caller:
        case "anonymous":
            return None
        case "device":
            return device
        case "sergeant":
            return await world.op("smith")
        case "supervisor":
            return await world.op("patel")
    raise AssertionError(caller)


async def snapshot_of_smith(world: World) -> int:
    """A snapshot taken by smith on a request he holds (so smith and patel may both read it)."""
    api = world.api
    smith = await world.op("smith")
    rid, _ = await world.new_request()
    expect(await api.claim(smith, rid), 200)
    resp = await api.call(
        "POST",
        f"/requests/{rid}/snapshots",
        smith,
        content=png_bytes(),
        headers={"Content-Type": "image/png"},
    )
    return expect(resp, resp.status_code if resp.status_code in (200, 201) else 201)["id"]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[f"{e.method} {e.path}" for e in ENDPOINTS])
async def test_auth_matrix(world: World, endpoint: Endpoint, caller: str) -> None:
    api = world.api
    if endpoint.path == "/requests":
        # A device with no active request (so an authorised create succeeds).
        device = await world.device()
        rid = 0
    else:
        rid, device = await world.new_request()
    smith = await world.op("smith")
    if endpoint.rule == "operator" and endpoint.path.startswith("/requests/{rid}/"):
        # Holder actions need a claim to mean anything; smith holds it.
        expect(await api.claim(smith, rid), 200)
    me = expect(await api.call("GET", "/device/me", device), 200)
    sid = await snapshot_of_smith(world) if "{sid}" in endpoint.path else 0
    path = (
        endpoint.path.replace("{rid}", str(rid))
        .replace("{did}", "1")
        .replace("{user}", "jones")
        .replace("{sid}", str(sid))
        .replace("{oid}", str(me["id"]))
    )
    token = await caller_token(world, caller, device)
    if caller == "sergeant" and endpoint.path == "/auth/logout":
        token = await api.login("smith")  # keep the world's own token alive
    expected = RULES[endpoint.rule][caller]

    if endpoint.stream:
        async with EventStream(api, path, token) as stream:
            pass
        status = stream.status
        assert status is not None
        if expected == "ok":
            assert status == 200, status
        else:
            assert status == int(expected), status
        return

    resp = await api.call(
        endpoint.method,
        path,
        token,
        json_body=endpoint.json_body,
        content=endpoint.content,
        headers=dict(endpoint.headers),
        params={"active": "true"}
        if endpoint.path == "/requests" and endpoint.method == "GET"
        else None,
    )
    if endpoint.path == "/requests" and resp.status_code == 201:
        world.created.append((resp.json()["id"], device))
    if expected == "ok":
        assert resp.status_code not in (401, 403), (resp.status_code, resp.text[:300])
        assert resp.status_code < 500, resp.text[:300]
        if endpoint.read_ok:
            assert resp.status_code == 200, (resp.status_code, resp.text[:300])
        if resp.status_code >= 400:
            assert_error_body(resp)
    else:
        expect(resp, int(expected), "unauthorized" if expected == "401" else "forbidden")


async def test_matrix_covers_every_api_endpoint(api: HubApi) -> None:
    spec = expect(await api.client.get(api.base_url + "/openapi.json"), 200)
    served = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method in item
        if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }
    tested = {e.key for e in ENDPOINTS} | {(m, normalise(p)) for m, p in PUBLIC}
    untested = {(m, p) for m, p in served if (m, normalise(p)) not in tested}
    assert not untested, f"endpoints without an auth-matrix row: {sorted(untested)}"
    documented_missing = {e.key for e in ENDPOINTS} - {(m, normalise(p)) for m, p in served}
    assert not documented_missing, (
        f"documented endpoints the hub does not serve: {documented_missing}"
    )


def normalise(path: str) -> str:
    """`/requests/{request_id}/claim` → `/requests/{id}/claim`."""
    parts = [("{id}" if p.startswith("{") else p) for p in path.split("/")]
    return "/".join(parts)


async def test_sergeant_reads_only_his_own_closed_requests(world: World) -> None:
    api = world.api
    smith, jones, patel = await world.op("smith"), await world.op("jones"), await world.op("patel")
    rid, _ = await world.new_request()
    expect(await api.claim(jones, rid), 200)
    expect(await api.fail(jones, rid, "over"), 200)
    expect(await api.call("GET", f"/requests/{rid}", smith), 403)
    expect(await api.call("GET", f"/requests/{rid}", jones), 200)
    expect(await api.call("GET", f"/requests/{rid}", patel), 200)


async def test_admin_reads_and_exports(world: World) -> None:
    admin = await world.op("admin")
    expect(await world.api.call("GET", "/history", admin), 200)
    resp = await world.api.call("GET", "/history/export.csv", admin)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    code = await world.api.call(
        "POST", "/enrolment-codes", admin, json_body={"collar_number": "1001CW"}
    )
    assert expect(code, 200)["code"]
    # An admin manages accounts and devices but does not answer calls.
    rid, _ = await world.new_request()
    expect(await world.api.claim(admin, rid), 403, "forbidden")


@pytest.mark.parametrize(
    "header",
    ["Bearer op_not-a-real-token", "Bearer dev_not-a-real-token", "Bearer x", "Basic c21pdGg6eA=="],
)
async def test_bad_credentials_are_401(api: HubApi, header: str) -> None:
    for path in ("/auth/me", "/device/me", "/history"):
        resp = await api.call("GET", path, headers={"Authorization": header})
        expect(resp, 401, "unauthorized")


async def test_logout_revokes_the_token(api: HubApi) -> None:
    token = await api.login("jones")
    expect(await api.call("GET", "/auth/me", token), 200)
    resp = await api.call("POST", "/auth/logout", token)
    assert resp.status_code in (200, 204), resp.text
    expect(await api.call("GET", "/auth/me", token), 401, "unauthorized")


async def test_login_with_wrong_password_is_401_and_correct_one_works(api: HubApi) -> None:
    resp = await api.call("POST", "/auth/login", json_body={"username": "jones", "password": "no"})
    expect(resp, 401)
    body = expect(
        await api.call(
            "POST", "/auth/login", json_body={"username": "jones", "password": "jones-demo"}
        ),
        200,
    )
    assert body["token"].startswith("op_")
    assert body["operator"]["role"] == "sergeant"


async def test_five_failed_logins_lock_the_account(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:

    server = start_hub(tmp_path_factory.mktemp("lock"))
    try:
        async with HubApi(server.url) as api:
            for _ in range(5):
                resp = await api.call(
                    "POST", "/auth/login", json_body={"username": "smith", "password": "wrong"}
                )
                assert resp.status_code in (401, 423), resp.text
            # Locked now: even the right password is refused.
            resp = await api.call(
                "POST", "/auth/login", json_body={"username": "smith", "password": "smith-demo"}
            )
            expect(resp, 423, "account_locked")
            # Other accounts are unaffected, and an admin can unlock.
            await api.login("jones")
            admin = await api.login("admin")
            resp = await api.call("POST", "/operators/smith/unlock", admin)
            assert resp.status_code in (200, 204), resp.text
            await api.login("smith")
    finally:
        server.stop()


async def test_secrets_never_reach_the_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Capture everything the hub logs (INFO and up) during a login and device calls."""
    api = world.api
    password = "patel-demo"
    with caplog.at_level(logging.INFO):
        login = expect(
            await api.call(
                "POST", "/auth/login", json_body={"username": "patel", "password": password}
            ),
            200,
        )
        token = login["token"]
        rid, dev = await world.new_request()
        expect(await api.call("GET", "/device/me", dev), 200)
        expect(await api.claim(token, rid), 200)
        expect(await api.answer(token, rid), 200)
        expect(await api.call("GET", "/auth/me", token), 200)
        await api.call("POST", "/auth/login", json_body={"username": "patel", "password": "oops1"})
    text = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert caplog.records, "the hub logged nothing at INFO: lifecycle steps should be logged"
    for secret in (password, "oops1", token, token[3:], dev, dev[4:], FAKE_OFFER[:40], "a=rtpmap"):
        assert secret not in text, f"secret {secret[:6]}… found in the hub's log"


async def test_enrolment_and_revocation(tmp_path_factory: pytest.TempPathFactory) -> None:
    """An admin issues a one-time code, a device enrols with it, the CLI revokes the device."""
    server = start_hub(tmp_path_factory.mktemp("enrol"))
    try:
        async with HubApi(server.url) as api:
            admin = await api.login("admin")
            officer = expect(await api.call("GET", "/officers/1", admin), 200)
            issued = expect(
                await api.call(
                    "POST",
                    "/enrolment-codes",
                    admin,
                    json_body={"collar_number": officer["collar_number"]},
                ),
                200,
            )
            enrol_body = {"warrant_number": officer["warrant_number"], "code": issued["code"]}
            wrong = {**enrol_body, "warrant_number": "MP000000"}
            expect(await api.call("POST", "/devices/enrol", json_body=wrong), 401)
            enrolled = expect(await api.call("POST", "/devices/enrol", json_body=enrol_body), 200)
            device = enrolled["device_token"]
            assert device.startswith("dev_")
            assert enrolled["officer"]["id"] == officer["id"]
            me = expect(await api.call("GET", "/device/me", device), 200)
            assert me["collar_number"] == officer["collar_number"]
            # The code was single-use.
            expect(await api.call("POST", "/devices/enrol", json_body=enrol_body), 401)

            done = run_cli(
                "revoke-device",
                "--db",
                server.settings.db_url,
                "--officer",
                officer["collar_number"],
            )
            assert done.returncode == 0, done.stdout + done.stderr
            body = expect(await api.call("GET", "/device/me", device), 401, "unauthorized")
            assert "revoked" in body["detail"].lower()
            expect(
                await api.call("POST", "/requests", device, json_body={"sdp_offer": FAKE_OFFER}),
                401,
            )
    finally:
        server.stop()
