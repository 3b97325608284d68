"""Value objects of the History tab: what a search is, what today's figures are, who may see what.

Pure Python (standard library only) so services, view-models and widgets can all share them; the
mapping to the hub's query parameters lives in `console/services/history.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from enum import StrEnum


class OutcomeFilter(StrEnum):
    """What the outcome filter offers: the two decisions and the side exits."""

    ALL = "all"
    CONFIRMED = "confirmed"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


OUTCOME_FILTER_LABELS: dict[OutcomeFilter, str] = {
    OutcomeFilter.ALL: "All outcomes",
    OutcomeFilter.CONFIRMED: "Confirmed",
    OutcomeFilter.REFUSED: "Refused",
    OutcomeFilter.CANCELLED: "Cancelled by officer",
    OutcomeFilter.EXPIRED: "Expired (not answered)",
    OutcomeFilter.FAILED: "Failed (media)",
}


class TimeRange(StrEnum):
    """Time-range presets; CUSTOM uses the query's explicit from/to."""

    TODAY = "today"
    LAST_7_DAYS = "last_7_days"
    CUSTOM = "custom"


TIME_RANGE_LABELS: dict[TimeRange, str] = {
    TimeRange.TODAY: "Today",
    TimeRange.LAST_7_DAYS: "Last 7 days",
    TimeRange.CUSTOM: "Custom range",
}


class SortOrder(StrEnum):
    """By time of the call; the hub sorts (keyset paging needs a server-side order)."""

    NEWEST = "newest"
    OLDEST = "oldest"


SORT_LABELS: dict[SortOrder, str] = {
    SortOrder.NEWEST: "Newest first",
    SortOrder.OLDEST: "Oldest first",
}


def local_midnight(now: datetime) -> datetime:
    """Start of `now`'s local calendar day (control rooms think in local days), timezone-aware."""
    local = now.astimezone()
    return datetime.combine(local.date(), time.min, tzinfo=local.tzinfo)


def range_bounds(
    preset: TimeRange,
    now: datetime,
    custom_from: datetime | None = None,
    custom_to: datetime | None = None,
) -> tuple[datetime | None, datetime | None]:
    """The (from, to) a preset means at `now`; `to` None means "up to now, including new calls"."""
    if preset is TimeRange.TODAY:
        return local_midnight(now), None
    if preset is TimeRange.LAST_7_DAYS:
        return local_midnight(now) - timedelta(days=6), None
    return custom_from, custom_to


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """One search of the history. Immutable: a filter change makes a new query and new paging."""

    time_range: TimeRange = TimeRange.TODAY
    custom_from: datetime | None = None
    custom_to: datetime | None = None
    outcome: OutcomeFilter = OutcomeFilter.ALL
    operator_id: int | None = None
    officer_id: int | None = None
    reference: str = ""
    sort: SortOrder = SortOrder.NEWEST

    def with_changes(self, **changes: object) -> HistoryQuery:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def bounds(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        return range_bounds(self.time_range, now, self.custom_from, self.custom_to)


@dataclass(frozen=True, slots=True)
class HeadlineFigures:
    """Today's figures for the stats header."""

    calls: int
    share_within_target: float | None  # 0..1; None when nothing was answered
    median_answer_seconds: float | None
    by_outcome: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Permissions:
    """What the signed-in operator may ask the history for (the hub enforces it regardless)."""

    sees_all_calls: bool
    may_export: bool

    @classmethod
    def for_role(cls, role: str) -> Permissions:
        senior = role in ("supervisor", "admin")
        return cls(sees_all_calls=senior, may_export=senior)
