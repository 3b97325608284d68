"""Bad input on every endpoint: a clear JSON 4xx `{error, detail}`, never a 500, never a write.

The JSON endpoints are found by walking the hub's `/openapi.json`, so a new endpoint is covered
without editing this file; hypothesis then throws generated bodies at the two richest ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.server import HubServer
from protocol.schemas import MAX_BODY_BYTES, MAX_SDP_CHARS, MAX_SNAPSHOT_BYTES
from tests.hub.client import API, FAKE_OFFER, assert_error_body, bearer
from tests.hub.conftest import discover_collars
from tests.hub.images import jpeg_bytes, png_bytes

PUBLIC_JSON = {"/api/v1/auth/login", "/api/v1/devices/enrol", "/api/v1/demo/device-token"}


@dataclass
class Ctx:
    """A sync client and identities on the module's hub."""

    client: httpx.Client
    smith: str
    collars: list[str]
    _next: int = 0

    def device(self) -> str:
        """A device with no active request (each call takes the next demo officer in turn)."""
        collar = self.collars[self._next % len(self.collars)]
        self._next += 1
        token = self.post("/demo/device-token", None, json={"collar_number": collar})
        assert token.status_code == 200, token.text
        dev = token.json()["device_token"]
        # Free it if an earlier test left a request behind.
        for r in self.client.get(
            "/requests", params={"active": "true"}, headers=bearer(self.smith)
        ).json():
            if r["officer"]["collar_number"] == collar:
                self.post(f"/requests/{r['id']}/hangup", dev)
                if r["state"] in ("claimed", "connected", "decided"):
                    self.post(f"/requests/{r['id']}/fail", self.smith, json={"detail": "reset"})
                    self.post(f"/requests/{r['id']}/end", self.smith)
        return dev

    def post(self, path: str, token: str | None, **kw: Any) -> httpx.Response:
        headers = {**bearer(token), **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, **kw)

    def claimed_request(self) -> tuple[int, str]:
        """A request smith holds; (id, device token)."""
        dev = self.device()
        created = self.post("/requests", dev, json={"sdp_offer": FAKE_OFFER})
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        claim = self.post(f"/requests/{rid}/claim", self.smith)
        assert claim.status_code == 200, claim.text
        return rid, dev

    def state(self, rid: int) -> dict[str, Any]:
        resp = self.client.get(f"/requests/{rid}", headers=bearer(self.smith))
        assert resp.status_code == 200, resp.text
        return resp.json()


@pytest.fixture(scope="module")
def ctx(hub: HubServer) -> Iterator[Ctx]:
    with httpx.Client(base_url=hub.url + API, timeout=15) as client:
        login = client.post("/auth/login", json={"username": "smith", "password": "smith-demo"})
        assert login.status_code == 200, login.text
        yield Ctx(client, login.json()["token"], discover_collars(hub.url))


def assert_clean_rejection(resp: httpx.Response, allowed: tuple[int, ...] = ()) -> None:
    assert resp.status_code < 500, f"{resp.request.url.path}: {resp.status_code} {resp.text[:300]}"
    assert 400 <= resp.status_code < 500 or resp.status_code in allowed, resp.text[:300]
    if resp.status_code >= 400:
        assert_error_body(resp)


def json_post_paths(ctx: Ctx) -> list[str]:
    spec = ctx.client.get(ctx.client.base_url.copy_with(path="/openapi.json")).json()
    return sorted(
        path
        for path, item in spec["paths"].items()
        if path.startswith(API)
        and "post" in item
        and "requestBody" in item["post"]
        and "application/json" in item["post"]["requestBody"].get("content", {})
    )


def caller_for(ctx: Ctx, path: str) -> tuple[str, str | None]:
    """Concrete path and a token entitled to call it (so the body, not auth, is judged)."""
    if path in PUBLIC_JSON:
        return path.removeprefix(API), None
    if path == f"{API}/requests":
        return "/requests", ctx.device()
    rid, dev = ctx.claimed_request()
    concrete = path.removeprefix(API).replace("{request_id}", str(rid)).replace("{id}", str(rid))
    if "{" in concrete:  # some other parameter name
        concrete = "/".join(str(rid) if p.startswith("{") else p for p in concrete.split("/"))
    token = dev if concrete.endswith("/hangup") else ctx.smith
    return concrete, token


BAD_BODIES: dict[str, bytes] = {
    "malformed": b'{"sdp_offer": ',
    "not-utf8": b'{"x": "\xff\xfe"}',
    "array": b"[1, 2, 3]",
    "string": b'"hello"',
    "number": b"42",
    "unknown-field": b'{"definitely_not_a_field": true}',
    "nested-junk": b'{"a": {"b": {"c": [null, {}, []]}}}',
}


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_every_json_endpoint_rejects_bad_bodies_cleanly(ctx: Ctx, kind: str) -> None:
    paths = json_post_paths(ctx)
    assert f"{API}/requests" in paths, paths
    for path in paths:
        concrete, token = caller_for(ctx, path)
        resp = ctx.post(
            concrete,
            token,
            content=BAD_BODIES[kind],
            headers={"Content-Type": "application/json", "Idempotency-Key": f"bad-{kind}"},
        )
        # Even endpoints whose fields are all optional forbid unknown fields (extra="forbid").
        assert_clean_rejection(resp)
        assert resp.status_code in (400, 413, 415, 422), (path, resp.status_code, resp.text)


def test_every_json_endpoint_rejects_oversized_bodies_with_413(ctx: Ctx) -> None:
    huge = json.dumps({"sdp_offer": "v" * (MAX_BODY_BYTES + 1024)}).encode()
    for path in json_post_paths(ctx):
        concrete, token = caller_for(ctx, path)
        resp = ctx.post(
            concrete,
            token,
            content=huge,
            headers={"Content-Type": "application/json", "Idempotency-Key": "huge"},
        )
        assert resp.status_code == 413, (path, resp.status_code, resp.text[:200])
        assert resp.json()["error"] == "body_too_large"


def test_oversized_chunked_body_without_length_is_413(ctx: Ctx) -> None:
    dev = ctx.device()

    def chunks() -> Iterator[bytes]:
        yield b'{"sdp_offer": "'
        for _ in range(40):
            yield b"v" * 10_000
        yield b'"}'

    resp = ctx.post(
        "/requests", dev, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 413, resp.text[:200]
    assert_clean_rejection(resp)
    # Nothing was written: the device can still place its one request.
    ok = ctx.post("/requests", dev, json={"sdp_offer": FAKE_OFFER})
    assert ok.status_code == 201, ok.text
    ctx.post(f"/requests/{ok.json()['id']}/hangup", dev)


def test_oversized_sdp_is_422_and_nothing_is_written(ctx: Ctx) -> None:
    dev = ctx.device()
    resp = ctx.post("/requests", dev, json={"sdp_offer": "v" * (MAX_SDP_CHARS + 1)})
    assert resp.status_code == 422, resp.text[:200]
    assert_clean_rejection(resp)
    ok = ctx.post("/requests", dev, json={"sdp_offer": FAKE_OFFER})
    assert ok.status_code == 201, ok.text
    ctx.post(f"/requests/{ok.json()['id']}/hangup", dev)


def test_oversized_answer_is_rejected_and_device_sees_none(ctx: Ctx) -> None:
    rid, dev = ctx.claimed_request()
    resp = ctx.post(
        f"/requests/{rid}/answer", ctx.smith, json={"sdp_answer": "a" * (MAX_SDP_CHARS + 1)}
    )
    assert resp.status_code == 422, resp.text[:200]
    own = ctx.client.get(f"/requests/{rid}/device", headers=bearer(dev)).json()
    assert own["sdp_answer"] is None


@pytest.mark.parametrize(
    ("content_type", "payload", "statuses"),
    [
        pytest.param("image/png", b"not a png at all", (415, 422), id="garbage-as-png"),
        pytest.param("image/jpeg", png_bytes(), (415, 422), id="png-labelled-jpeg"),
        pytest.param("text/plain", b"hello", (415, 422), id="text"),
        pytest.param("image/gif", b"GIF89a" + b"\0" * 20, (415, 422), id="gif"),
        pytest.param("image/png", b"", (415, 422), id="empty"),
        pytest.param(
            "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_SNAPSHOT_BYTES + 1), (413,), id="huge"
        ),
    ],
)
def test_bad_snapshots_are_rejected_and_not_stored(
    ctx: Ctx, content_type: str, payload: bytes, statuses: tuple[int, ...]
) -> None:
    rid, _ = ctx.claimed_request()
    resp = ctx.post(
        f"/requests/{rid}/snapshots",
        ctx.smith,
        content=payload,
        headers={"Content-Type": content_type},
    )
    assert resp.status_code in statuses, (resp.status_code, resp.text[:200])
    assert_clean_rejection(resp)
    assert ctx.state(rid)["snapshots"] == []


@pytest.mark.parametrize(
    ("content_type", "image"), [("image/png", png_bytes()), ("image/jpeg", jpeg_bytes())]
)
def test_good_snapshot_round_trips(ctx: Ctx, content_type: str, image: bytes) -> None:
    rid, _ = ctx.claimed_request()
    resp = ctx.post(
        f"/requests/{rid}/snapshots",
        ctx.smith,
        content=image,
        headers={"Content-Type": content_type},
    )
    assert resp.status_code in (200, 201), resp.text
    snap = resp.json()
    stored = ctx.client.get(f"/snapshots/{snap['id']}", headers=bearer(ctx.smith))
    assert stored.status_code == 200
    assert stored.content == image
    assert [s["id"] for s in ctx.state(rid)["snapshots"]] == [snap["id"]]


@pytest.mark.parametrize(
    ("rid", "status"),
    [
        ("abc", 422),
        ("-1", 422),
        ("0", 422),
        ("1.5", 422),
        ("99999999999999999999999", 422),  # beyond 64 bits
        ("99999999", 404),
    ],
)
def test_bad_request_ids_are_clean_4xx(ctx: Ctx, rid: str, status: int) -> None:
    for path in (
        f"/requests/{rid}",
        f"/requests/{rid}/claim",
        f"/snapshots/{rid}",
        f"/officers/{rid}",
    ):
        method = "POST" if path.endswith("claim") else "GET"
        resp = ctx.client.request(method, path, headers=bearer(ctx.smith))
        assert resp.status_code == status, (path, resp.status_code, resp.text[:200])
        assert_clean_rejection(resp)


def test_bad_login_bodies(ctx: Ctx) -> None:
    for body in (
        {},
        {"username": ""},
        {"username": "smith", "password": ""},
        {"username": 5, "password": 6},
        {"username": "x" * 65, "password": "y"},
    ):
        resp = ctx.post("/auth/login", None, json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert_clean_rejection(resp)


# ------------------------------------------------------------------ generated bodies

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
create_bodies = st.fixed_dictionaries(
    {},
    optional={
        "sdp_offer": st.text(max_size=40) | json_values,
        "location": json_values
        | st.fixed_dictionaries(
            {
                "latitude": st.floats(allow_nan=False, allow_infinity=False),
                "longitude": st.floats(allow_nan=False, allow_infinity=False),
            }
        ),
        "officer_id": st.integers(),
    },
)
decision_bodies = st.fixed_dictionaries(
    {},
    optional={
        "outcome": st.sampled_from(["confirmed", "refused", "maybe", ""]) | json_values,
        "reason_code": st.sampled_from(["identity_confirmed", "other", "face_mismatch", "nope"]),
        "notes": st.text(max_size=50) | json_values,
        "checklist": st.dictionaries(
            st.sampled_from(["face_matches_photo", "on_duty", "bogus"]), json_values, max_size=3
        ),
        "override_reason": st.none() | st.text(max_size=20) | json_values,
    },
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(body=create_bodies)
def test_generated_create_bodies_never_500_and_write_nothing_when_rejected(
    ctx: Ctx, body: dict[str, Any]
) -> None:
    dev = ctx.device()
    resp = ctx.post("/requests", dev, json=body)
    assert_clean_rejection(resp, allowed=(201,))
    if resp.status_code == 201:
        ctx.post(f"/requests/{resp.json()['id']}/hangup", dev)
        return
    ok = ctx.post("/requests", dev, json={"sdp_offer": FAKE_OFFER})
    assert ok.status_code == 201, f"rejected body left a request behind: {ok.text}"
    ctx.post(f"/requests/{ok.json()['id']}/hangup", dev)


@FUZZ
@given(body=decision_bodies)
def test_generated_decisions_never_500_and_change_nothing_when_rejected(
    ctx: Ctx, body: dict[str, Any]
) -> None:
    rid, dev = ctx.claimed_request()
    before = ctx.state(rid)
    resp = ctx.post(
        f"/requests/{rid}/decision", ctx.smith, json=body, headers={"Idempotency-Key": "fuzz"}
    )
    assert_clean_rejection(resp, allowed=(200,))
    if resp.status_code == 200:
        assert resp.json()["decision"]["outcome"] == body["outcome"]
        ctx.post(f"/requests/{rid}/end", ctx.smith)
        return
    after = ctx.state(rid)
    assert after["request"] == before["request"]
    assert after["audit"] == before["audit"]
    ctx.post(f"/requests/{rid}/hangup", dev)
