"""HistoryService and the search value objects against a fake port (no Qt, no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.domain.history import (
    HistoryQuery,
    OutcomeFilter,
    Permissions,
    SortOrder,
    TimeRange,
    local_midnight,
    range_bounds,
)
from console.services.history import HistoryService, query_params
from protocol import Role
from tests.console.history.fakes import NOW, FakeHistoryPort, varied_items


def test_today_starts_at_local_midnight_and_is_open_ended():
    start, end = range_bounds(TimeRange.TODAY, NOW)
    assert end is None
    assert start == local_midnight(NOW)
    assert start <= NOW < start + timedelta(days=1)
    assert start.astimezone().hour == 0


def test_last_seven_days_covers_today_and_six_before():
    start, _end = range_bounds(TimeRange.LAST_7_DAYS, NOW)
    assert start == local_midnight(NOW) - timedelta(days=6)


def test_custom_range_passes_through():
    first = datetime(2026, 1, 1, tzinfo=UTC)
    last = datetime(2026, 2, 1, tzinfo=UTC)
    assert range_bounds(TimeRange.CUSTOM, NOW, first, last) == (first, last)


def test_query_params_map_every_filter_to_the_hub_names():
    query = HistoryQuery(
        time_range=TimeRange.CUSTOM,
        custom_from=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
        custom_to=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        outcome=OutcomeFilter.REFUSED,
        operator_id=2,
        officer_id=7,
        reference=" sc-4k7q-2m ",
        sort=SortOrder.OLDEST,
    )
    assert query_params(query, NOW) == {
        "sort": "oldest",
        "from": "2026-11-01T08:00:00Z",
        "to": "2026-11-02T08:00:00Z",
        "outcome": "refused",
        "operator_id": "2",
        "officer_id": "7",
        "reference": "SC-4K7Q-2M",
    }


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (OutcomeFilter.ALL, {}),
        (OutcomeFilter.CONFIRMED, {"outcome": "confirmed"}),
        (OutcomeFilter.EXPIRED, {"state": "expired"}),
        (OutcomeFilter.CANCELLED, {"state": "cancelled"}),
        (OutcomeFilter.FAILED, {"state": "failed"}),
    ],
)
def test_side_exits_filter_by_state_decisions_by_outcome(outcome, expected):
    params = query_params(HistoryQuery(outcome=outcome), NOW)
    assert {k: v for k, v in params.items() if k in ("outcome", "state")} == expected


def test_default_query_is_today_newest_first():
    params = query_params(HistoryQuery(), NOW)
    assert params["sort"] == "newest"
    assert params["from"].endswith("Z")
    assert "to" not in params


@pytest.mark.parametrize(
    ("role", "sees_all", "exports"),
    [(Role.SERGEANT, False, False), (Role.SUPERVISOR, True, True), (Role.ADMIN, True, True)],
)
async def test_permissions_follow_the_role(role, sees_all, exports):
    service = HistoryService(FakeHistoryPort([], role=role))
    _me, permissions = await service.permissions()
    assert permissions == Permissions(sees_all_calls=sees_all, may_export=exports)


async def test_headline_asks_for_today_and_maps_figures():
    port = FakeHistoryPort([])
    figures = await HistoryService(port, clock=lambda: NOW).headline_today()
    assert port.stats_calls == [{"from": query_params(HistoryQuery(), NOW)["from"]}]
    assert figures.calls == 12
    assert figures.share_within_target == pytest.approx(0.83)
    assert figures.median_answer_seconds == pytest.approx(6.5)
    assert figures.by_outcome["refused"] == 2


async def test_export_reports_progress_against_the_total(tmp_path):
    port = FakeHistoryPort(varied_items(10))
    service = HistoryService(port, clock=lambda: NOW)
    progress: list[tuple[int, int | None]] = []
    destination = tmp_path / "out.csv"
    rows = await service.export_csv(
        HistoryQuery(time_range=TimeRange.CUSTOM), destination, lambda d, t: progress.append((d, t))
    )
    assert rows == 10
    assert progress[0] == (0, 10)
    assert progress[-1] == (10, 10)
    assert len(destination.read_text().splitlines()) == 11
