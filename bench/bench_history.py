"""History tab at scale: open and filter over 1,000,000 calls (goal: open <= 300, filter <= 150 ms).

    .venv/bin/python bench/bench_history.py                 # 1,000,000 calls, 5 repetitions
    .venv/bin/python bench/bench_history.py --rows 100000   # quicker
    .venv/bin/python bench/bench_history.py --db /tmp/h.db  # keep (and reuse) the seeded file

What it does: creates a hub database (schema + demo accounts by the hub itself), bulk-inserts the
calls with the hub's own SQLAlchemy tables (Core executemany, spread over a year so "today" holds
~1/365 of them), starts the hub as a subprocess on it (its own interpreter, as in production),
then drives the console's real History stack (HubHttp -> HistoryApi -> HistoryService ->
HistoryViewModel -> HistoryTab, offscreen Qt on a qasync loop) signed in as a supervisor, and
times, from the user's intent to the rows painted in the table:
  * open: build the tab + start (who am I, first page) -> first page painted;
  * each filter change -> first page of the new search painted;
  * scrolling: one more page.
Prints a table and a JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.stdout.reconfigure(line_buffering=True)  # progress lines show as they happen

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import qasync  # noqa: E402
from bench_hub_common import start_hub  # noqa: E402
from PySide6.QtCore import QModelIndex  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from console.adapters.history_api import HistoryApi  # noqa: E402
from console.adapters.hub_http import HubHttp  # noqa: E402
from console.domain.history import (  # noqa: E402
    HeadlineFigures,
    HistoryQuery,
    OutcomeFilter,
    SortOrder,
    TimeRange,
)
from console.models.history_vm import HistoryViewModel  # noqa: E402
from console.services.history import HistoryService, query_params  # noqa: E402
from console.widgets.history_tab import HistoryTab  # noqa: E402
from hub.references import CROCKFORD_ALPHABET  # noqa: E402
from hub.storage.models import (  # noqa: E402
    Decision,
    Device,
    Officer,
    Operator,
    VerificationRequest,
)
from protocol import HistoryPage  # noqa: E402

GOAL_OPEN_MS = 300.0
GOAL_FILTER_MS = 150.0


# ---------------------------------------------------------------------------- seeding


def reference_for(number: int) -> str:
    """A unique SC-XXXX-XX reference per seeded call (Crockford base32 of the number)."""
    chars = []
    for _ in range(6):
        number, digit = divmod(number, 32)
        chars.append(CROCKFORD_ALPHABET[digit])
    code = "".join(reversed(chars))
    return f"SC-{code[:4]}-{code[4:]}"


def seed_calls(db_url: str, rows: int, now: datetime) -> float:
    """Bulk-insert `rows` finished calls; returns seconds taken. Deterministic (seeded RNG)."""
    engine = create_engine(db_url)
    rng = random.Random(1_000_000)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("PRAGMA synchronous=OFF"))
        officers = conn.execute(select(Officer.id)).scalars().all()
        device_of = dict(conn.execute(select(Device.officer_id, Device.id)).all())
        sergeants = (
            conn.execute(select(Operator.id).where(Operator.role.in_(("sergeant", "supervisor"))))
            .scalars()
            .all()
        )
        officers = [o for o in officers if o in device_of]
        first_id = (conn.execute(select(func.max(VerificationRequest.id))).scalar() or 0) + 1
        span = 365 * 24 * 3600.0
        chunk = 20_000
        for base in range(0, rows, chunk):
            requests, decisions = [], []
            for offset in range(min(chunk, rows - base)):
                number = base + offset
                request_id = first_id + number
                # Oldest first, evenly over the last year, newest ~ now.
                created = now - timedelta(seconds=span * (1 - (number + 1) / rows))
                officer = officers[rng.randrange(len(officers))]
                holder = sergeants[rng.randrange(len(sergeants))]
                roll = rng.random()
                wait = rng.uniform(1.0, 25.0)
                claimed = created + timedelta(seconds=wait)
                connected = claimed + timedelta(seconds=1.5)
                ended = connected + timedelta(seconds=rng.uniform(30, 240))
                row = {
                    "id": request_id,
                    "state": "ended",
                    "officer_id": officer,
                    "device_id": device_of[officer],
                    "location": None,
                    "sdp_offer": "v=0",
                    "sdp_answer": None,
                    "holder_id": None,
                    "last_holder_id": holder,
                    "lease_expires_at": None,
                    "created_at": created,
                    "queued_at": created,
                    "first_claimed_at": claimed,
                    "claimed_at": claimed,
                    "answered_at": claimed,
                    "connected_at": connected,
                    "decided_at": ended,
                    "ended_at": ended,
                    "wait_seconds": wait,
                    "device_left": False,
                    "end_reason": None,
                }
                if roll < 0.82:
                    confirmed = roll < 0.70
                    decisions.append(
                        {
                            "request_id": request_id,
                            "operator_id": holder,
                            "outcome": "confirmed" if confirmed else "refused",
                            "reason_code": "identity_confirmed"
                            if confirmed
                            else rng.choice(
                                [
                                    "face_mismatch",
                                    "warrant_not_valid",
                                    "not_on_duty",
                                    "purpose_not_credible",
                                    "poor_media",
                                ]
                            ),
                            "notes": "",
                            "checklist": {},
                            "override_reason": None,
                            "reference": reference_for(request_id),
                            "idempotency_key": f"bench-{request_id}",
                            "body_hash": "0" * 64,
                            "decided_at": ended,
                        }
                    )
                else:
                    state = "expired" if roll < 0.90 else ("cancelled" if roll < 0.96 else "failed")
                    row |= {"state": state, "end_reason": f"bench {state}", "decided_at": None}
                    if state != "failed":
                        row |= {
                            "last_holder_id": None,
                            "first_claimed_at": None,
                            "claimed_at": None,
                            "answered_at": None,
                            "connected_at": None,
                            "wait_seconds": None,
                        }
                requests.append(row)
            conn.execute(insert(VerificationRequest.__table__), requests)
            if decisions:
                conn.execute(insert(Decision.__table__), decisions)
            print(f"  seeded {base + len(requests):>9,} / {rows:,}", end="\r", flush=True)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    print()
    return time.perf_counter() - started


def count_calls(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count(VerificationRequest.id))).scalar() or 0)
    except Exception:  # no schema yet
        return -1
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- measuring


class TimedHistoryApi(HistoryApi):
    """HistoryApi that notes how long each page's HTTP round trip took (hub + transport)."""

    def __init__(self, hub_http: HubHttp) -> None:
        super().__init__(hub_http)
        self.last_round_trip_ms = 0.0

    async def page(self, params: dict[str, str], cursor: str | None, limit: int) -> HistoryPage:
        query: dict[str, str | int] = {**params, "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        started = time.perf_counter()
        body = await self._http.json("GET", "/history", params=query)
        self.last_round_trip_ms = (time.perf_counter() - started) * 1000
        return HistoryPage.model_validate(body)


class BenchHistoryService(HistoryService):
    """The real service, except that today's figures are canned during the timed opens.

    At a million rows the hub's stats query takes seconds (reported separately below, once):
    left in, every timed open would start one and they would pile up on the 2-core box, timing
    the hub's backlog instead of the tab.
    """

    async def headline_today(self) -> HeadlineFigures:
        return HeadlineFigures(calls=0, share_within_target=None, median_answer_seconds=None)


class TabUnderTest:
    """One History tab on the shared client; waits for pages on the model's own signal."""

    def __init__(self, hub_http: HubHttp) -> None:
        self.api = TimedHistoryApi(hub_http)
        self.vm = HistoryViewModel(BenchHistoryService(self.api))
        self.tab = HistoryTab(self.vm)
        self.tab.resize(1500, 820)
        self.tab.show()
        self._landed: asyncio.Future[int] | None = None
        self.vm.model.page_loaded.connect(self._on_page)
        self.vm.model.fetch_failed.connect(self._on_failure)
        self._figures: asyncio.Future[float] | None = None
        self._started_at = 0.0
        self.vm.headline_changed.connect(self._on_headline)
        self.vm.message_posted.connect(self._on_message)

    async def open_timed(self) -> tuple[float, float, int, float]:
        """`timed(start)`, then wait for today's figures too (so their query never piles up
        under the next scenario); the last value is ms until the figures were shown (or -1 if
        the hub gave up)."""
        self._figures = asyncio.get_running_loop().create_future()
        self._started_at = time.perf_counter()
        ms, round_trip, rows = await self.timed(self.vm.start)
        figures_ms = await asyncio.wait_for(self._figures, 120)
        return ms, round_trip, rows, figures_ms

    def _on_headline(self, figures: object) -> None:
        if figures is not None and self._figures is not None and not self._figures.done():
            self._figures.set_result((time.perf_counter() - self._started_at) * 1000)

    def _on_message(self, level: str, text: str) -> None:
        if "figures" in text and self._figures is not None and not self._figures.done():
            print(f"  ({level}: {text})", flush=True)
            self._figures.set_result(-1.0)

    def arm(self) -> asyncio.Future[int]:
        self._landed = asyncio.get_running_loop().create_future()
        return self._landed

    def _on_page(self, rows: int, _more: bool) -> None:
        if self._landed is not None and not self._landed.done():
            self._landed.set_result(rows)

    def _on_failure(self, error: object) -> None:
        if self._landed is not None and not self._landed.done():
            self._landed.set_exception(RuntimeError(f"page failed: {error}"))

    async def timed(self, intent: Callable[[], None]) -> tuple[float, float, int]:
        """ms from `intent()` to the new first page painted, ms of that page's HTTP round trip,
        and the rows shown."""
        landed = self.arm()
        started = time.perf_counter()
        intent()
        rows = await asyncio.wait_for(landed, 30)
        self.tab.table.viewport().repaint()  # synchronous paint of what the user now sees
        return (time.perf_counter() - started) * 1000, self.api.last_round_trip_ms, rows

    def close(self) -> None:
        self.vm.close()
        self.tab.close()
        self.tab.deleteLater()


async def measure(url: str, repeats: int) -> dict[str, list[float]]:
    client = httpx.AsyncClient(base_url=url)
    hub_http = HubHttp(client)
    response = await client.post(
        "/api/v1/auth/login", json={"username": "patel", "password": "patel-demo"}, timeout=30
    )
    response.raise_for_status()
    hub_http.set_token(response.json()["token"])
    results: dict[str, list[float]] = {}
    round_trips: dict[str, list[float]] = {}
    shown: dict[str, int] = {}

    def record(name: str, ms: float, round_trip_ms: float, rows: int) -> None:
        results.setdefault(name, []).append(ms)
        round_trips.setdefault(name, []).append(round_trip_ms)
        shown[name] = rows

    all_time = HistoryQuery(time_range=TimeRange.CUSTOM)
    failures: dict[str, str] = {}

    def opened(name: str, ms: float, round_trip: float, rows: int, _figures: float) -> None:
        record(name, ms, round_trip, rows)
        print(f"  {name}: {ms:.0f} ms (http {round_trip:.0f}), {rows} rows")

    def filtered(name: str, ms: float, round_trip: float, rows: int) -> None:
        record(name, ms, round_trip, rows)
        print(f"  {name}: {ms:.0f} ms (http {round_trip:.0f}), {rows} rows")

    try:
        # Warm-up: connection pool, hub caches, Qt style caches (not recorded).
        warm = TabUnderTest(hub_http)
        await warm.open_timed()
        await warm.timed(lambda: warm.vm.set_query(all_time))
        warm.close()

        for _ in range(repeats):
            fresh = TabUnderTest(hub_http)
            opened("open (today)", *await fresh.open_timed())
            filtered(
                "filter: all time", *await fresh.timed(lambda t=fresh: t.vm.set_query(all_time))
            )
            fresh.close()

        tab = TabUnderTest(hub_http)
        await tab.open_timed()
        await tab.timed(lambda: tab.vm.set_query(all_time))
        sample = tab.vm.model.row_at(0)
        assert sample is not None
        officer_id, operator_id = sample.item.officer_id, sample.item.operator_id
        reference = next(
            row.item.reference
            for row in map(tab.vm.model.row_at, range(tab.vm.model.rowCount()))
            if row is not None and row.item.reference
        )
        filters: list[tuple[str, HistoryQuery]] = [
            ("filter: outcome refused", all_time.with_changes(outcome=OutcomeFilter.REFUSED)),
            ("filter: expired (state)", all_time.with_changes(outcome=OutcomeFilter.EXPIRED)),
            ("filter: one sergeant", all_time.with_changes(operator_id=operator_id)),
            ("filter: one officer", all_time.with_changes(officer_id=officer_id)),
            (
                "filter: officer + refused",
                all_time.with_changes(officer_id=officer_id, outcome=OutcomeFilter.REFUSED),
            ),
            ("filter: reference", all_time.with_changes(reference=reference)),
            ("filter: oldest first", all_time.with_changes(sort=SortOrder.OLDEST)),
            ("filter: last 7 days", HistoryQuery(time_range=TimeRange.LAST_7_DAYS)),
        ]
        for _ in range(repeats):
            for name, query in filters:
                try:
                    filtered(name, *await tab.timed(lambda q=query: tab.vm.set_query(q)))
                except RuntimeError as exc:  # a hub error on one filter must not end the run
                    print(f"  {name}: FAILED: {exc}")
                    failures[name] = str(exc)
                await tab.timed(lambda: tab.vm.set_query(all_time))
            # Scrolling: the next page of the all-time list.
            filtered(
                "scroll: next page",
                *await tab.timed(lambda: tab.vm.model.fetchMore(QModelIndex())),
            )
        # Today's figures, once, as the stats header asks for them (with a long timeout).
        params = {"from": query_params(HistoryQuery(), datetime.now(UTC))["from"]}
        started = time.perf_counter()
        await hub_http.json("GET", "/history/stats", params=params, timeout=300)
        elapsed = (time.perf_counter() - started) * 1000
        record("figures: GET /history/stats today", elapsed, elapsed, 0)
        print(f"  today's figures: {elapsed:.0f} ms")
        tab.close()
    finally:
        await client.aclose()
    measure.shown = shown  # type: ignore[attr-defined]
    measure.round_trips = round_trips  # type: ignore[attr-defined]
    measure.failures = failures  # type: ignore[attr-defined]
    return results


# ---------------------------------------------------------------------------- main


def run(args: argparse.Namespace, workdir: Path) -> tuple[int, float | None, dict]:
    """Create or reuse the database, seed it, start the hub on it and measure."""
    db_path = args.db or workdir / "hub.db"
    db_url = f"sqlite:///{db_path}"
    now = datetime.now(UTC)

    existing = count_calls(db_url) if db_path.exists() else -1
    seed_seconds = None
    if existing < 0:
        print(f"creating the hub database {db_path} (schema + demo accounts, by the hub)")
        start_hub(db_url=db_url, timeout_s=120).stop()
        existing = 0
    if existing < args.rows:
        print(f"seeding {args.rows - existing:,} calls")
        seed_seconds = seed_calls(db_url, args.rows - existing, now)
        print(f"seeded in {seed_seconds:.1f} s")
    total = count_calls(db_url)

    hub = start_hub(db_url=db_url, demo=False, timeout_s=120)
    app = QApplication.instance() or QApplication([])
    # Closing one measured tab must not end the run (Qt quits when the last window closes).
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    try:
        with loop:
            results = loop.run_until_complete(measure(hub.url, args.repeats))
    finally:
        hub.stop()
    return total, seed_seconds, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="SQLite file to create or reuse")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="sc-bench-history-"))
    try:
        total, seed_seconds, results = run(args, workdir)
    finally:
        # A seeded database without --db is ~700 MB of temporary file: never leave it behind.
        shutil.rmtree(workdir, ignore_errors=True)
    shown = getattr(measure, "shown", {})
    round_trips = getattr(measure, "round_trips", {})
    for name, error in getattr(measure, "failures", {}).items():
        print(f"FAILED {name}: {error}")

    print()
    print(
        f"History at {total:,} calls — {args.repeats} repetitions, ms from intent to rows painted"
    )
    print("(http = the page's HTTP round trip inside it: hub query + transport)")
    print(f"{'scenario':30} {'median':>8} {'max':>8} {'http':>8} {'rows':>6}  goal")
    summary = {}
    for name, values in results.items():
        goal = GOAL_OPEN_MS if name.startswith("open") else GOAL_FILTER_MS
        median = statistics.median(values)
        verdict = (
            ""
            if name.startswith("figures")
            else (f"<= {goal:.0f} {'ok' if median <= goal else 'MISSED'}")
        )
        http = statistics.median(round_trips.get(name, [0.0]))
        print(
            f"{name:30} {median:8.1f} {max(values):8.1f} {http:8.1f} {shown.get(name, 0):6}"
            f"  {verdict}"
        )
        summary[name] = {
            "median_ms": round(median, 1),
            "max_ms": round(max(values), 1),
            "http_median_ms": round(http, 1),
        }
    machine = {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
    }
    print(
        json.dumps(
            {
                "bench": "history",
                "calls": total,
                "repeats": args.repeats,
                "seed_seconds": seed_seconds,
                "results": summary,
                "machine": machine,
            }
        )
    )
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
