"""The hub on PostgreSQL, over real HTTP: what SQLite-only CI could not prove.

A real hub (uvicorn on loopback, `demo=True`) starts on a fresh PostgreSQL database and migrates
it; then sign-in, the concurrent claim race, the whole lifecycle with an idempotent decision
retry, SSE resume replayed from the database, history + CSV + stats, and `verify-audit --db URL`.
Skipped unless `SC_TEST_POSTGRES_URL` names a server (see tests/hub_pg/databases.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from hub.accounts import create_operator
from hub.security import Passwords
from hub.server import HubServer
from hub.storage.database import Database
from hub.storage.migrate import alembic_config
from protocol.schemas import Role
from tests.helpers.hub import device_token, login
from tests.hub.cli_hub import run_cli
from tests.hub.client import CONFIRM, REFUSE, EventStream, HubApi, expect
from tests.hub.conftest import OfficerPool, World
from tests.hub.test_claim_race import one_round
from tests.hub.test_events import burst, ids_of
from tests.hub.test_lifecycle import REFERENCE
from tests.hub_pg.databases import SKIP_REASON, postgres_url

pytestmark = pytest.mark.skipif(postgres_url() is None, reason=SKIP_REASON)

CLAIMERS = 20
RACE_ROUNDS = 6
PARALLEL_RACES = 2  # independent races at a time, each still CLAIMERS claimers on one request
RACE_PASSWORD = "pg-race-password-1"
BURST_CYCLES = 20  # claim + release = 2 events each; well past the hub's small event ring


def test_hub_migrated_the_empty_database_on_start(pg_hub: HubServer, pg_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(pg_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            assert connection.dialect.name == "postgresql"
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert version == head, f"database at {version}, migrations head is {head}"
    assert len(tables) > 3, tables
    assert httpx.get(f"{pg_hub.url}/healthz", timeout=10).json() == {"status": "ok"}


def test_demo_operators_and_devices_sign_in(pg_hub: HubServer) -> None:
    token = login(pg_hub.url, "smith", "smith-demo")
    me = httpx.get(
        f"{pg_hub.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "sergeant"
    device = device_token(pg_hub, "1001CW")
    own = httpx.get(
        f"{pg_hub.url}/api/v1/device/me", headers={"Authorization": f"Bearer {device}"}, timeout=10
    )
    assert own.status_code == 200, own.text
    assert own.json()["collar_number"] == "1001CW"
    bad = httpx.post(
        f"{pg_hub.url}/api/v1/auth/login",
        json={"username": "smith", "password": "wrong"},
        timeout=10,
    )
    assert bad.status_code == 401, bad.text


async def test_concurrent_claim_race_has_exactly_one_winner_every_round(
    pg_hub: HubServer, pg_url: str, officers: OfficerPool
) -> None:
    # The same function the `create-operator` CLI calls, writing to PostgreSQL beside the hub.
    db = Database(pg_url)
    try:
        for n in range(CLAIMERS):
            create_operator(
                db,
                Passwords(time_cost=1, memory_kib=8192, parallelism=1),
                username=f"pgrace{n:02d}",
                password=RACE_PASSWORD,
                display_name=f"Racer {n:02d}",
                rank="PS",
                role=Role.SERGEANT,
            )
    finally:
        db.dispose()
    pool = PARALLEL_RACES * CLAIMERS + 10  # one connection per claim in flight
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    async with HubApi(pg_hub.url, limits=limits) as api:
        tokens = [await api.login(f"pgrace{n:02d}", RACE_PASSWORD) for n in range(CLAIMERS)]
        names = {token: f"{n:02d}" for n, token in enumerate(tokens)}
        devices = [await api.device_token(officers.take()) for _ in range(PARALLEL_RACES)]
        for _ in range(RACE_ROUNDS // PARALLEL_RACES):
            async with asyncio.TaskGroup() as group:
                for device in devices:
                    group.create_task(one_round(api, tokens, device, names))


async def test_lifecycle_to_ended_with_idempotent_decision_retry(world: World) -> None:
    api = world.api
    smith = await world.op("smith")
    rid, dev = await world.new_request()
    assert (expect(await api.claim(smith, rid), 200))["request"]["state"] == "claimed"
    expect(await api.answer(smith, rid), 200)
    assert (expect(await api.connected(smith, rid), 200))["state"] == "connected"

    decided = expect(await api.decide(smith, rid, CONFIRM, key="pg-decide-1"), 200)
    reference = decided["decision"]["reference"]
    assert REFERENCE.match(reference), reference
    # A retry after a lost response (same Idempotency-Key) returns the same decision.
    retry = expect(await api.decide(smith, rid, CONFIRM, key="pg-decide-1"), 200)
    assert retry["decision"]["reference"] == reference
    assert retry["state"] == "decided"
    # Deciding again with another key is a conflict, not a second decision.
    assert (await api.decide(smith, rid, REFUSE, key="pg-decide-2")).status_code == 409

    ended = expect(await api.end(smith, rid), 200)
    assert ended["state"] == "ended"
    detail = await api.detail(smith, rid)
    assert detail["request"]["decision"]["reference"] == reference
    assert len(detail["audit"]) >= 5, detail["audit"]
    own = expect(await api.call("GET", f"/requests/{rid}/device", dev), 200)
    assert own["state"] == "ended"
    assert own["reference"] == reference


async def test_sse_resume_with_last_event_id_has_no_gap_and_no_duplicate(world: World) -> None:
    api = world.api
    smith, patel = await world.op("smith"), await world.op("patel")
    rids = [(await world.new_request())[0] for _ in range(2)]
    producer: asyncio.Task[None] | None = None
    # The reference subscriber stays connected throughout; `first` drops mid-burst and resumes.
    async with EventStream(api, "/events", patel, last_event_id=0) as reference:
        first = EventStream(api, "/events", smith, last_event_id=0)
        try:
            await first.__aenter__()  # entered by hand: it is closed mid-test
            await first.wait_for_event("request.created", rids[-1])
            start_id = max(ids_of(first.events))
            away = asyncio.Event()
            producer = asyncio.create_task(burst(api, smith, rids, BURST_CYCLES, halfway=away))
            await first.wait_until(
                lambda s: sum(1 for e in s.events if (e.id or 0) > start_id) >= 6,
                what="6 burst events",
            )
            await first.close()
            away.set()  # the second half of the burst happens while disconnected
            seen = list(first.events)
            async with EventStream(api, "/events", smith, last_event_id=max(ids_of(seen))) as again:
                async with asyncio.timeout(60):
                    await producer
                marker = (await world.new_request())[0]
                await again.wait_for_event("request.created", marker, timeout=20)
            await reference.wait_for_event("request.created", marker, timeout=20)
        finally:
            if producer is not None:
                producer.cancel()
            await first.close()

    combined = ids_of(seen) + ids_of(again.events)
    assert len(combined) == len(set(combined)), "an event was delivered twice"
    assert combined == sorted(combined), "events out of order"
    assert combined == [i for i in ids_of(reference.events) if i <= max(combined)], "a gap"
    burst_events = [e for e in reference.events if (e.id or 0) > start_id and e.request_id in rids]
    assert len(burst_events) == 2 * BURST_CYCLES


async def test_history_page_csv_and_stats(world: World) -> None:
    api = world.api
    jones, patel = await world.op("jones"), await world.op("patel")
    made: dict[str, str] = {}  # reference -> outcome
    plan: list[dict[str, Any]] = [CONFIRM, REFUSE, CONFIRM]
    for n, body in enumerate(plan):
        rid, _ = await world.new_request()
        expect(await api.claim(jones, rid), 200)
        expect(await api.connected(jones, rid), 200)
        view = expect(await api.decide(jones, rid, body, key=f"pg-history-{n}"), 200)
        expect(await api.end(jones, rid), 200)
        made[view["decision"]["reference"]] = body["outcome"]

    whole = expect(await api.call("GET", "/history", patel, params={"limit": 500}), 200)
    items = whole["items"]
    assert whole["next_cursor"] is None
    assert made.items() <= {i["reference"]: i["outcome"] for i in items}.items()
    keys = [(i["created_at"], i["id"]) for i in items]
    assert keys == sorted(keys, reverse=True), "newest first"

    paged: list[int] = []
    cursor: str | None = None
    for _ in range(500):
        params: dict[str, object] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = expect(await api.call("GET", "/history", patel, params=params), 200)
        paged += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == [i["id"] for i in items], "keyset pages differ from the whole list"

    own = expect(await api.call("GET", "/history", jones, params={"limit": 500}), 200)["items"]
    assert {i["reference"] for i in own} >= made.keys()
    assert all(i["operator_id"] == own[0]["operator_id"] for i in own), "a sergeant sees his own"

    export = await api.call("GET", "/history/export.csv", patel, params={"outcome": "refused"})
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    refused = {i["reference"] for i in items if i["outcome"] == "refused"}
    assert {row["reference"] for row in rows} == refused
    assert {r for r, o in made.items() if o == "refused"} <= refused

    stats = expect(await api.call("GET", "/history/stats", patel), 200)
    for outcome in ("confirmed", "refused"):
        expected = sum(1 for i in items if i["outcome"] == outcome)
        assert stats["by_outcome"].get(outcome) == expected, (outcome, stats)
    assert stats["calls"] >= len(made)
    assert stats["median_answer_seconds"] is not None
    assert stats["median_answer_seconds"] >= 0


def test_verify_audit_cli_reports_the_chain_intact(pg_hub: HubServer, pg_url: str) -> None:
    # Make sure there is something to verify even if this test runs alone.
    token = login(pg_hub.url, "admin", "admin-demo")
    assert token
    done = run_cli("verify-audit", "--db", pg_url)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert output.startswith("OK"), output
    entries = int(output.split("(")[1].split()[0])
    assert entries > 0, output
