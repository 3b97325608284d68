"""History use cases: search past calls page by page, today's headline figures, one call's record,
CSV export, and the names the filter pickers offer.

Qt-free and transport-free: the service depends on `HistoryPort` (implemented over HTTP by
`console/adapters/history_api.py`, and by a hand-written fake in the tests). The hub enforces who
may see what (sergeants: their own calls; supervisors and admins: every call and export); the
service only tells the UI what the signed-in operator may ask for, so the UI can adapt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from console.domain.errors import NotFoundError, PermissionDeniedError, UserFacingError
from console.domain.history import (
    HeadlineFigures,
    HistoryQuery,
    OutcomeFilter,
    Permissions,
    local_midnight,
)
from protocol import (
    HistoryPage,
    HistorySort,
    HistoryStats,
    OfficerSummary,
    OperatorSummary,
    OperatorView,
    Outcome,
    RequestDetail,
    RequestState,
)

log = logging.getLogger(__name__)

#: Rows asked for per page when scrolling: big enough that a fast scroll needs few round trips.
DEFAULT_PAGE_SIZE = 200
#: Rows of a search's first page: a full 1080p screen of rows and a little more, so the first
#: answer over a million-row history is as small (and as fast) as it can be.
FIRST_PAGE_SIZE = 60

ProgressCallback = Callable[[int, int | None], None]


def _iso(moment: datetime) -> str:
    """ISO 8601 in UTC with `Z`, as docs/protocol.md asks for."""
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means local wall-clock time
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def query_params(query: HistoryQuery, now: datetime) -> dict[str, str]:
    """The hub's query parameters for `query` (docs/protocol.md, GET /history)."""
    params: dict[str, str] = {"sort": HistorySort(query.sort.value).value}
    start, end = query.bounds(now)
    if start is not None:
        params["from"] = _iso(start)
    if end is not None:
        params["to"] = _iso(end)
    if query.outcome in (OutcomeFilter.CONFIRMED, OutcomeFilter.REFUSED):
        params["outcome"] = Outcome(query.outcome.value).value
    elif query.outcome is not OutcomeFilter.ALL:
        params["state"] = RequestState(query.outcome.value).value
    if query.operator_id is not None:
        params["operator_id"] = str(query.operator_id)
    if query.officer_id is not None:
        params["officer_id"] = str(query.officer_id)
    reference = query.reference.strip().upper()
    if reference:
        params["reference"] = reference
    return params


def headline_from_stats(stats: HistoryStats) -> HeadlineFigures:
    return HeadlineFigures(
        calls=stats.calls,
        share_within_target=stats.share_answered_within_10s,
        median_answer_seconds=stats.median_answer_seconds,
        by_outcome=dict(stats.by_outcome),
    )


#: One entry of a filter picker: (id the hub filters on, what the picker shows).
Choice = tuple[int, str]


def operator_label(operator: OperatorSummary) -> str:
    """'PS Smith', or 'PS Old (inactive)' for a disabled account whose calls are still listed."""
    return operator.call_sign if operator.active else f"{operator.call_sign} (inactive)"


def officer_label(officer: OfficerSummary) -> str:
    """'HARPER, Jane (DC 1001CW)': surname first, as the list is sorted, so typing the first
    letters of a surname in the picker finds the officer."""
    return (
        f"{officer.surname.upper()}, {officer.forenames} ({officer.rank} {officer.collar_number})"
    )


def merge_choices(directory: Sequence[Choice] | None, seen: Mapping[int, str]) -> list[Choice]:
    """A picker's entries: the hub's directory in its order, then anyone seen in loaded rows whom
    the directory lacks (added since it was read), by label. Without a directory (an older hub,
    or it could not be read), only the people seen in rows, by label."""
    known = {key for key, _ in directory or ()}
    extra = sorted(((k, v) for k, v in seen.items() if k not in known), key=lambda kv: kv[1])
    return [*(directory or ()), *extra]


@dataclass(frozen=True)
class FilterChoices:
    """What the hub's directory offers the filter pickers; None where it could not say."""

    operators: list[Choice] | None
    officers: list[Choice] | None
    #: A part failed for a reason that may pass (hub unreachable, busy): worth asking again.
    retry_later: bool = False


class HistoryPort(Protocol):
    """What the history service needs from the hub."""

    async def whoami(self) -> OperatorView: ...

    async def page(self, params: dict[str, str], cursor: str | None, limit: int) -> HistoryPage: ...

    async def count(self, params: dict[str, str]) -> int | None:
        """Total rows matching `params`, or None when the hub cannot say."""
        ...

    async def stats(self, params: dict[str, str]) -> HistoryStats: ...

    async def detail(self, request_id: int) -> RequestDetail: ...

    async def snapshot_image(self, snapshot_id: int) -> bytes: ...

    async def operators(self) -> list[OperatorSummary]:
        """Every operator who answers calls (supervisors and admins may ask)."""
        ...

    async def officers(self) -> list[OfficerSummary]:
        """Every officer on record (any operator may ask)."""
        ...

    async def export_csv(
        self, params: dict[str, str], destination: Path, on_rows: Callable[[int], None]
    ) -> int:
        """Stream the CSV into `destination`; call `on_rows(data rows so far)`; return the count.

        Must leave no file at `destination` when it fails or is cancelled.
        """
        ...


Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HistoryService:
    """Use cases of the History tab. Stateless apart from the injected port and clock."""

    def __init__(
        self,
        port: HistoryPort,
        *,
        clock: Clock = _utc_now,
        page_size: int = DEFAULT_PAGE_SIZE,
        first_page_size: int | None = None,
    ) -> None:
        self._port = port
        self._clock = clock
        self.page_size = page_size
        self.first_page_size = (
            min(FIRST_PAGE_SIZE, page_size) if first_page_size is None else first_page_size
        )

    def now(self) -> datetime:
        return self._clock()

    async def permissions(self) -> tuple[OperatorView, Permissions]:
        """Who is signed in and what the history UI should offer them."""
        me = await self._port.whoami()
        return me, Permissions.for_role(me.role.value)

    async def page(self, query: HistoryQuery, cursor: str | None = None) -> HistoryPage:
        """One page of `query`; pass the previous page's `next_cursor` for the next one."""
        size = self.page_size if cursor is not None else self.first_page_size
        return await self._port.page(query_params(query, self.now()), cursor, size)

    async def headline_today(self) -> HeadlineFigures:
        """Calls, share answered within 10 s, median answer time, outcomes since local midnight."""
        params = {"from": _iso(local_midnight(self.now()))}
        return headline_from_stats(await self._port.stats(params))

    async def detail(self, request_id: int) -> RequestDetail:
        return await self._port.detail(request_id)

    async def snapshot_image(self, snapshot_id: int) -> bytes:
        return await self._port.snapshot_image(snapshot_id)

    async def filter_choices(self, permissions: Permissions) -> FilterChoices:
        """The sergeants (only for those who see every call) and officers the pickers offer.

        Never raises for the hub's sake: a hub older than this console (404), or one that cannot
        answer now, leaves that part None and the pickers list the names seen in loaded rows.
        """

        officers_read = _read_directory(self._port.officers, "officer")
        operators: list[OperatorSummary] | None = None
        operators_transient = False
        if permissions.sees_all_calls:  # a sergeant sees only his own calls: no sergeant filter
            (operators, operators_transient), (officers, officers_transient) = await asyncio.gather(
                _read_directory(self._port.operators, "operator"), officers_read
            )
        else:
            officers, officers_transient = await officers_read
        return FilterChoices(
            operators=None if operators is None else [(o.id, operator_label(o)) for o in operators],
            officers=None if officers is None else [(o.id, officer_label(o)) for o in officers],
            retry_later=operators_transient or officers_transient,
        )

    async def export_csv(
        self, query: HistoryQuery, destination: Path, on_progress: ProgressCallback
    ) -> int:
        """Write every row of `query` to `destination` as CSV; returns the number of data rows.

        Progress is reported as (rows written, total rows or None). The total is asked for first so
        the progress bar is determinate; if the hub cannot count, the bar runs indeterminate.
        """
        params = query_params(query, self.now())
        total = await self._port.count(params)
        on_progress(0, total)
        rows = await self._port.export_csv(
            params, destination, lambda done: on_progress(done, total)
        )
        log.info("history export wrote %d rows to %s", rows, destination)
        return rows


async def _read_directory[T](
    fetch: Callable[[], Awaitable[list[T]]], what: str
) -> tuple[list[T] | None, bool]:
    """(the list, or None when the hub cannot give it; whether asking again may help)."""
    try:
        return await fetch(), False
    except NotFoundError:
        log.info(
            "the hub has no %s directory (older than this console): the %s filter offers only "
            "names seen in loaded calls",
            what,
            what,
        )
        return None, False
    except PermissionDeniedError:
        log.info("the hub refused the %s directory to this operator", what)
        return None, False
    except UserFacingError as exc:
        log.warning(
            "the %s directory could not be read (%s): the filter offers names seen in loaded "
            "calls until the next refresh",
            what,
            exc.code,
        )
        return None, True
