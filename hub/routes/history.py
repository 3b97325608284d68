"""History list, CSV export and stats."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from hub.history import HistoryFilter, history_page, history_stats, iter_history
from hub.routes.deps import MAX_ID, CallerDep, Responses, ServiceDep
from hub.service import READING_ROLES
from protocol.schemas import (
    API_PREFIX,
    MAX_PAGE_SIZE,
    ErrorBody,
    HistoryPage,
    HistorySort,
    HistoryStats,
    Outcome,
    ReasonCode,
    RequestState,
    Role,
)

router = APIRouter(prefix=API_PREFIX, tags=["history"])
ERRORS: Responses = {code: {"model": ErrorBody} for code in (401, 403, 422)}
CSV_COLUMNS = [
    "id",
    "reference",
    "created_at",
    "state",
    "officer_id",
    "officer",
    "operator_id",
    "operator",
    "outcome",
    "reason_code",
    "wait_seconds",
    "talk_seconds",
]


def history_filter(
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    reason: Annotated[ReasonCode | None, Query()] = None,
    operator_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    officer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    reference: Annotated[str | None, Query(max_length=20)] = None,
    state: Annotated[RequestState | None, Query()] = None,
) -> HistoryFilter:
    """Parse the common filters (naive datetimes are taken as UTC)."""

    def _aware(moment: datetime | None) -> datetime | None:
        if moment is not None and moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment

    return HistoryFilter(
        from_=_aware(from_),
        to=_aware(to),
        outcome=outcome,
        reason=reason,
        operator_id=operator_id,
        officer_id=officer_id,
        reference=reference,
        state=state,
    )


FilterDep = Annotated[HistoryFilter, Depends(history_filter)]


@router.get("/history", response_model=HistoryPage, responses=ERRORS)
def history(
    caller: CallerDep,
    service: ServiceDep,
    filters: FilterDep,
    sort: HistorySort = HistorySort.NEWEST,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    count: bool = False,
) -> HistoryPage:
    """Past and present calls, filtered, keyset-paginated (sergeants: the calls they held)."""
    caller.require_operator()
    assert caller.role is not None
    with service.db.read() as session:
        return history_page(session, filters, caller.role, caller.id, sort, limit, cursor, count)


@router.get(
    "/history/export.csv",
    response_class=StreamingResponse,
    responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
)
def export_csv(
    caller: CallerDep,
    service: ServiceDep,
    filters: FilterDep,
    sort: HistorySort = HistorySort.NEWEST,
) -> StreamingResponse:
    """The same rows as CSV, streamed (supervisor, admin)."""
    caller.require_operator(*READING_ROLES)
    role = caller.role or Role.SUPERVISOR

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        with service.db.read() as session:
            for n, item in enumerate(iter_history(session, filters, role, caller.id, sort), 1):
                data = item.model_dump(mode="json")
                writer.writerow(["" if data[c] is None else data[c] for c in CSV_COLUMNS])
                if n % 200 == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="safe-connection-history.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/history/stats", response_model=HistoryStats, responses=ERRORS)
def stats(caller: CallerDep, service: ServiceDep, filters: FilterDep) -> HistoryStats:
    """Counts and answer times (sergeants: their own calls)."""
    caller.require_operator()
    assert caller.role is not None
    with service.db.read() as session:
        return history_stats(session, filters, caller.role, caller.id)
