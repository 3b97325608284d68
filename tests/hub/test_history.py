"""History: filters, keyset pagination, sort, CSV export, stats and who may see what.

One hub for the module with a known set of finished calls, made over HTTP at set-up.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from hub.server import HubServer
from tests.hub.client import API, CONFIRM, FAKE_OFFER, bearer, expect
from tests.hub.conftest import discover_collars, start_hub
from tests.hub.test_lifecycle import REFERENCE


def refuse(reason: str) -> dict[str, Any]:
    return {"outcome": "refused", "reason_code": reason, "notes": "history test"}


@dataclass
class Seeded:
    """What the module's hub holds, as the tests expect to find it."""

    url: str
    tokens: dict[str, str]
    operator_ids: dict[str, int]
    references: dict[int, str] = field(default_factory=dict)  # request id -> reference
    by_operator: dict[str, list[int]] = field(default_factory=dict)
    outcome: dict[int, str] = field(default_factory=dict)
    reason: dict[int, str] = field(default_factory=dict)
    officer: dict[int, int] = field(default_factory=dict)
    cancelled: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


# (operator, decision body) per finished call, in creation order.
PLAN: list[tuple[str, dict[str, Any] | str]] = [
    ("smith", CONFIRM),
    ("smith", CONFIRM),
    ("jones", refuse("warrant_not_valid")),
    ("smith", refuse("face_mismatch")),
    ("jones", refuse("warrant_not_valid")),
    ("smith", CONFIRM),
    ("jones", CONFIRM),
    ("smith", "fail"),
    ("nobody", "cancel"),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    server: HubServer = start_hub(tmp_path_factory.mktemp("history"), lease_seconds=60.0)
    collars = discover_collars(server.url)
    with httpx.Client(base_url=server.url + API, timeout=15) as client:

        def call(method: str, path: str, token: str | None, **kw: Any) -> Any:
            resp = client.request(method, path, headers={**bearer(token), **kw.pop("h", {})}, **kw)
            assert resp.status_code in (200, 201), f"{method} {path}: {resp.text}"
            return resp.json()

        tokens = {
            name: call("POST", "/auth/login", None, json={"username": name, "password": pw})[
                "token"
            ]
            for name, pw in [
                ("smith", "smith-demo"),
                ("jones", "jones-demo"),
                ("patel", "patel-demo"),
            ]
        }
        ids = {name: call("GET", "/auth/me", tok)["id"] for name, tok in tokens.items()}
        seeded = Seeded(server.url, tokens, ids)
        for n, (who, what) in enumerate(PLAN):
            dev = call("POST", "/demo/device-token", None, json={"collar_number": collars[n]})[
                "device_token"
            ]
            rid = call("POST", "/requests", dev, json={"sdp_offer": FAKE_OFFER})["id"]
            seeded.officer[rid] = call("GET", "/device/me", dev)["id"]
            if what == "cancel":
                call("POST", f"/requests/{rid}/hangup", dev)
                seeded.cancelled.append(rid)
                continue
            op = tokens[who]
            seeded.by_operator.setdefault(who, []).append(rid)
            call("POST", f"/requests/{rid}/claim", op)
            call("POST", f"/requests/{rid}/connected", op)
            if what == "fail":
                call("POST", f"/requests/{rid}/fail", op, json={"detail": "dropped"})
                seeded.failed.append(rid)
                continue
            assert isinstance(what, dict)
            view = call(
                "POST", f"/requests/{rid}/decision", op, json=what, h={"Idempotency-Key": f"h{n}"}
            )
            call("POST", f"/requests/{rid}/end", op)
            seeded.references[rid] = view["decision"]["reference"]
            seeded.outcome[rid] = what["outcome"]
            seeded.reason[rid] = what["reason_code"]
    yield seeded
    server.stop()


@pytest.fixture
def client(seeded: Seeded) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=seeded.url + API, timeout=15) as c:
        yield c


def history(client: httpx.Client, token: str, **params: Any) -> dict[str, Any]:
    return expect(client.get("/history", params=params, headers=bearer(token)), 200)


def all_pages(client: httpx.Client, token: str, **params: Any) -> list[dict[str, Any]]:
    """Follow next_cursor to the end; fail on a loop."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(200):
        page = history(client, token, **params, **({"cursor": cursor} if cursor else {}))
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def test_supervisor_sees_every_call(client: httpx.Client, seeded: Seeded) -> None:
    ids = {i["id"] for i in all_pages(client, seeded.tokens["patel"], limit=500)}
    expected = set(seeded.references) | set(seeded.cancelled) | set(seeded.failed)
    assert expected <= ids


def test_sergeant_sees_only_his_own(client: httpx.Client, seeded: Seeded) -> None:
    items = all_pages(client, seeded.tokens["smith"], limit=500)
    assert {i["id"] for i in items} == set(seeded.by_operator["smith"])
    assert {i["operator_id"] for i in items} == {seeded.operator_ids["smith"]}
    # Asking for someone else's calls does not widen the view.
    other = history(
        client, seeded.tokens["smith"], operator_id=seeded.operator_ids["jones"], limit=500
    )
    assert other["items"] == []


@pytest.mark.parametrize("outcome", ["confirmed", "refused"])
def test_filter_by_outcome(client: httpx.Client, seeded: Seeded, outcome: str) -> None:
    items = all_pages(client, seeded.tokens["patel"], outcome=outcome, limit=500)
    assert {i["id"] for i in items} == {r for r, o in seeded.outcome.items() if o == outcome}
    assert all(i["outcome"] == outcome for i in items)


def test_filter_by_reason(client: httpx.Client, seeded: Seeded) -> None:
    items = all_pages(client, seeded.tokens["patel"], reason="warrant_not_valid", limit=500)
    expected = {r for r, why in seeded.reason.items() if why == "warrant_not_valid"}
    assert {i["id"] for i in items} == expected
    assert len(expected) == 2


def test_filter_by_operator(client: httpx.Client, seeded: Seeded) -> None:
    jones = seeded.operator_ids["jones"]
    items = all_pages(client, seeded.tokens["patel"], operator_id=jones, limit=500)
    assert {i["id"] for i in items} == set(seeded.by_operator["jones"])


def test_filter_by_officer(client: httpx.Client, seeded: Seeded) -> None:
    rid, officer_id = next(iter(seeded.officer.items()))
    items = all_pages(client, seeded.tokens["patel"], officer_id=officer_id, limit=500)
    assert rid in {i["id"] for i in items}
    assert {i["officer_id"] for i in items} == {officer_id}


def test_references_are_unique_and_well_formed(seeded: Seeded) -> None:
    references = list(seeded.references.values())
    assert len(set(references)) == len(references)
    assert all(REFERENCE.match(r) for r in references), references


def test_filter_by_reference(client: httpx.Client, seeded: Seeded) -> None:
    rid, reference = next(iter(seeded.references.items()))
    page = history(client, seeded.tokens["patel"], reference=reference)
    assert [(i["id"], i["reference"]) for i in page["items"]] == [(rid, reference)]
    assert history(client, seeded.tokens["patel"], reference="SC-0000-00")["items"] == []


@pytest.mark.parametrize("state", ["cancelled", "failed", "ended"])
def test_filter_by_state(client: httpx.Client, seeded: Seeded, state: str) -> None:
    items = all_pages(client, seeded.tokens["patel"], state=state, limit=500)
    expected = {"cancelled": seeded.cancelled, "failed": seeded.failed}.get(
        state, list(seeded.references)
    )
    assert {i["id"] for i in items} == set(expected)


def test_filter_by_time_range(client: httpx.Client, seeded: Seeded) -> None:
    items = all_pages(client, seeded.tokens["patel"], sort="oldest", limit=500)
    times = [datetime.fromisoformat(i["created_at"].replace("Z", "+00:00")) for i in items]
    assert times == sorted(times)
    # Bounds half-way between neighbours, so inclusive/exclusive edges cannot matter.
    lo = times[2] + (times[3] - times[2]) / 2
    hi = times[5] + (times[6] - times[5]) / 2
    assert times[2] < lo < times[3]
    assert times[5] < hi < times[6]
    window = all_pages(
        client,
        seeded.tokens["patel"],
        sort="oldest",
        limit=500,
        **{"from": lo.isoformat(), "to": hi.isoformat()},
    )
    assert [i["id"] for i in window] == [i["id"] for i in items[3:6]]


@pytest.mark.parametrize("limit", [1, 2, 4])
@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_keyset_pagination_walks_everything_once_in_order(
    client: httpx.Client, seeded: Seeded, limit: int, sort: str
) -> None:
    whole = history(client, seeded.tokens["patel"], sort=sort, limit=500)["items"]
    paged = all_pages(client, seeded.tokens["patel"], sort=sort, limit=limit)
    assert [i["id"] for i in paged] == [i["id"] for i in whole]
    keys = [(i["created_at"], i["id"]) for i in paged]
    assert keys == sorted(keys, reverse=sort == "newest")
    assert len({i["id"] for i in paged}) == len(paged)


def test_pagination_is_stable_when_new_calls_arrive(client: httpx.Client, seeded: Seeded) -> None:
    patel = seeded.tokens["patel"]
    first = history(client, patel, sort="newest", limit=3)
    # A new call lands between page 1 and page 2: keyset paging neither repeats nor skips.
    collars = discover_collars(seeded.url)
    dev = expect(client.post("/demo/device-token", json={"collar_number": collars[-1]}), 200)[
        "device_token"
    ]
    new = expect(client.post("/requests", json={"sdp_offer": FAKE_OFFER}, headers=bearer(dev)), 201)
    expect(client.post(f"/requests/{new['id']}/hangup", headers=bearer(dev)), 200)
    rest: list[dict[str, Any]] = []
    cursor = first["next_cursor"]
    while cursor:
        page = history(client, patel, sort="newest", limit=3, cursor=cursor)
        rest.extend(page["items"])
        cursor = page["next_cursor"]
    ids = [i["id"] for i in first["items"] + rest]
    assert new["id"] not in ids
    assert len(ids) == len(set(ids))
    expected = set(seeded.references) | set(seeded.cancelled) | set(seeded.failed)
    assert expected <= set(ids)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 501},
        {"limit": 0},
        {"limit": "many"},
        {"cursor": "not-a-cursor"},
        {"outcome": "maybe"},
        {"reason": "bad_hair"},
        {"sort": "sideways"},
        {"from": "yesterday"},
        {"state": "asleep"},
        {"operator_id": "x"},
    ],
    ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()),
)
def test_bad_history_parameters_are_422(
    client: httpx.Client, seeded: Seeded, params: dict[str, Any]
) -> None:
    expect(client.get("/history", params=params, headers=bearer(seeded.tokens["patel"])), 422)


def test_csv_export_matches_history(client: httpx.Client, seeded: Seeded) -> None:
    patel = seeded.tokens["patel"]
    resp = client.get("/history/export.csv", params={"outcome": "refused"}, headers=bearer(patel))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    refused = {r for r, o in seeded.outcome.items() if o == "refused"}
    assert len(rows) == len(refused)
    references = {row.get("reference") for row in rows}
    assert references == {seeded.references[r] for r in refused}
    expect(client.get("/history/export.csv", headers=bearer(seeded.tokens["smith"])), 403)


def test_stats_count_outcomes(client: httpx.Client, seeded: Seeded) -> None:
    stats = expect(client.get("/history/stats", headers=bearer(seeded.tokens["patel"])), 200)
    confirmed = sum(1 for o in seeded.outcome.values() if o == "confirmed")
    refused = sum(1 for o in seeded.outcome.values() if o == "refused")
    assert stats["by_outcome"].get("confirmed") == confirmed
    assert stats["by_outcome"].get("refused") == refused
    assert stats["calls"] >= len(PLAN)
    assert stats["median_answer_seconds"] is not None
    assert stats["median_answer_seconds"] >= 0
    assert 0 <= stats["share_answered_within_10s"] <= 1


def test_sergeant_stats_are_his_own(client: httpx.Client, seeded: Seeded) -> None:
    stats = expect(client.get("/history/stats", headers=bearer(seeded.tokens["jones"])), 200)
    assert stats["calls"] == len(seeded.by_operator["jones"])
    assert stats["by_outcome"].get("refused") == 2
    assert stats["by_outcome"].get("confirmed") == 1


def test_wait_and_talk_times(client: httpx.Client, seeded: Seeded) -> None:
    items = history(client, seeded.tokens["patel"], state="ended", limit=500)["items"]
    assert items
    for item in items:
        assert item["wait_seconds"] is not None
        assert item["wait_seconds"] >= 0
        assert item["talk_seconds"] is not None
        assert item["talk_seconds"] >= 0
        assert item["operator"]
        assert item["officer"]
