"""Claim race: 50 sergeants press "answer" on the same request at once, 200 times over.

Exactly one wins every round; all 49 others get 409 `claim_conflict` naming the winner. The
claimers are 50 distinct sergeant accounts (made with the `create-operator` CLI) over one
keep-alive connection pool, released together by an asyncio start barrier.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from hub.accounts import create_operator
from hub.security import Passwords
from hub.storage.database import Database
from protocol.schemas import Role
from tests.hub.cli_hub import CliHub, run_cli, sqlite_url
from tests.hub.client import HubApi, expect
from tests.hub.conftest import discover_collars

CLAIMERS = 50
ROUNDS = 200
PARALLEL_ROUNDS = 4  # independent races at a time (each still 50 claimers on one request)
PASSWORD = "race-password-1"


@pytest.fixture(scope="module")
def race_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliHub]:
    """A hub (own process, so it does not share a GIL with 50 clients) with 50 more sergeants.

    The first extra sergeant is made by the real `create-operator` CLI; starting 49 more
    interpreters would cost a minute on 2 cores, so the rest go through the function the CLI
    calls. The lease is long: a lapsed lease would legitimately let a late claimer win again.
    """
    folder = tmp_path_factory.mktemp("race")
    server = CliHub(folder / "hub.db", folder / "hub.log", "--demo", "--lease-seconds", "300")
    server.start()
    db_url = sqlite_url(server.db_path)
    done = run_cli(
        "create-operator",
        "--db",
        db_url,
        "--username",
        "race00",
        "--display-name",
        "Racer 00",
        "--rank",
        "PS",
        "--role",
        "sergeant",
        "--password-env",
        "SC_RACE_PASSWORD",
        env={"SC_RACE_PASSWORD": PASSWORD},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    db = Database(db_url)
    passwords = Passwords(time_cost=1, memory_kib=8192, parallelism=1)
    try:
        for n in range(1, CLAIMERS):
            create_operator(
                db,
                passwords,
                username=f"race{n:02d}",
                password=PASSWORD,
                display_name=f"Racer {n:02d}",
                rank="PS",
                role=Role.SERGEANT,
            )
    finally:
        db.dispose()
    yield server
    server.stop()


async def one_round(api: HubApi, tokens: list[str], device: str, names: dict[str, str]) -> None:
    """Create a request, release 50 claims at once, check the outcome, then free the device."""
    rid = (await api.create_request(device))["id"]
    barrier = asyncio.Event()
    ready = 0
    all_waiting = asyncio.Event()

    async def claimer(token: str) -> tuple[str, httpx.Response]:
        nonlocal ready
        ready += 1
        if ready == len(tokens):
            all_waiting.set()
        await barrier.wait()
        return token, await api.claim(token, rid)

    tasks = [asyncio.create_task(claimer(t)) for t in tokens]
    async with asyncio.timeout(10):
        await all_waiting.wait()
    barrier.set()
    async with asyncio.timeout(60):
        results = await asyncio.gather(*tasks)

    winners = [(t, r) for t, r in results if r.status_code == 200]
    assert len(winners) == 1, [(names[t], r.text[:200]) for t, r in winners]
    winner_token, winner_resp = winners[0]
    holder = winner_resp.json()["request"]["holder"]
    # The call sign format is the hub's ("PS Racer 07"); it must at least name the right racer.
    assert names[winner_token] in holder, (holder, names[winner_token])
    for _, resp in results:
        if resp is winner_resp:
            continue
        body = expect(resp, 409, "claim_conflict")
        assert body["holder"] == holder, body

    # The winner lets go (failed is terminal) so the device may call again.
    expect(await api.fail(winner_token, rid, "race round over"), 200)


@pytest.mark.slow
@pytest.mark.timeout(1200)
async def test_fifty_way_claim_race_has_exactly_one_winner_every_time(
    race_hub: CliHub,
) -> None:
    # One connection per in-flight claim, so the barrier really releases them all at once.
    pool = PARALLEL_ROUNDS * CLAIMERS + 10
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    async with HubApi(race_hub.url, limits=limits) as api:
        tokens: list[str] = []
        names: dict[str, str] = {}
        for n in range(CLAIMERS):
            token = await api.login(f"race{n:02d}", PASSWORD)
            me = expect(await api.call("GET", "/auth/me", token), 200)
            assert me["role"] == "sergeant"
            tokens.append(token)
            names[token] = f"{n:02d}"
        assert len(set(names.values())) == CLAIMERS
        collars = discover_collars(race_hub.url)[:PARALLEL_ROUNDS]
        devices = [await api.device_token(c) for c in collars]
        # Several independent races at a time keep 2 cores busy without changing the test:
        # each round is still 50 claimers on one request.
        for start in range(0, ROUNDS, len(devices)):
            async with asyncio.TaskGroup() as group:
                for offset, device in enumerate(devices):
                    if start + offset < ROUNDS:
                        group.create_task(one_round(api, tokens, device, names))


async def test_claim_conflict_names_the_holder_for_a_demo_sergeant(race_hub: CliHub) -> None:
    async with HubApi(race_hub.url) as api:
        smith, jones = await api.login("smith"), await api.login("jones")
        me = expect(await api.call("GET", "/auth/me", smith), 200)
        device = await api.device_token(discover_collars(race_hub.url)[5])
        rid = (await api.create_request(device))["id"]
        expect(await api.claim(smith, rid), 200)
        body = expect(await api.claim(jones, rid), 409, "claim_conflict")
        assert body["holder"] == (await api.detail(smith, rid))["request"]["holder"]
        assert me["display_name"].split()[-1].lower() in body["holder"].lower()
        expect(await api.hangup(device, rid), 200)
