"""History queries: filters, keyset pagination, CSV rows, stats. Portable SQL only."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from hub.errors import InvalidRequestError
from hub.storage.models import Decision, Officer, Operator, VerificationRequest
from protocol.schemas import (
    MAX_PAGE_SIZE,
    HistoryItem,
    HistoryPage,
    HistorySort,
    HistoryStats,
    Outcome,
    ReasonCode,
    RequestState,
    Role,
)

R = VerificationRequest
ANSWERED_WITHIN_SECONDS = 10.0


@dataclass(frozen=True)
class HistoryFilter:
    """The query-string filters of /history, /history/export.csv and /history/stats."""

    from_: datetime | None = None
    to: datetime | None = None
    outcome: Outcome | None = None
    reason: ReasonCode | None = None
    operator_id: int | None = None
    officer_id: int | None = None
    reference: str | None = None
    state: RequestState | None = None


def encode_cursor(created_at: datetime, request_id: int) -> str:
    """Opaque keyset cursor for (created_at, id)."""
    raw = json.dumps([created_at.isoformat(), request_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Inverse of encode_cursor; 422 for anything that is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, request_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None or not isinstance(request_id, int):
            raise ValueError("bad cursor")
        return moment, request_id
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidRequestError("The cursor is not valid; start again without it") from None


def _filtered(query: Select, filters: HistoryFilter, role: Role, operator_id: int) -> Select:
    conditions = []
    if filters.from_ is not None:
        conditions.append(R.created_at >= filters.from_)
    if filters.to is not None:
        conditions.append(R.created_at < filters.to)
    # Outcome/reason as a correlated EXISTS, not a join condition: the planner then walks
    # requests in (created_at, id) index order and stops after one page, instead of collecting
    # and sorting every matching decision (seconds at a million rows).
    decision = aliased(Decision)  # its own alias: the outer query joins `decisions` too
    decided = []
    if filters.outcome is not None:
        decided.append(decision.outcome == filters.outcome.value)
    if filters.reason is not None:
        decided.append(decision.reason_code == filters.reason.value)
    if decided:
        conditions.append(exists().where(decision.request_id == R.id, *decided))
    if filters.operator_id is not None:
        conditions.append(R.last_holder_id == filters.operator_id)
    if filters.officer_id is not None:
        conditions.append(R.officer_id == filters.officer_id)
    if filters.reference:
        reference = filters.reference.strip().upper()
        conditions.append(
            R.id.in_(select(Decision.request_id).where(Decision.reference == reference))
        )
    if filters.state is not None:
        conditions.append(R.state == filters.state.value)
    if role is Role.SERGEANT:
        conditions.append(R.last_holder_id == operator_id)  # sergeants: only calls they held
    return query.where(*conditions) if conditions else query


def _base_query() -> Select:
    holder = aliased(Operator)
    return (
        select(R, Officer, Decision, holder)
        .join(Officer, Officer.id == R.officer_id)
        .outerjoin(Decision, Decision.request_id == R.id)
        .outerjoin(holder, holder.id == R.last_holder_id)
    )


def _item(
    request: R, officer: Officer, decision: Decision | None, holder: Operator | None
) -> HistoryItem:
    talk = None
    if request.connected_at is not None and request.ended_at is not None:
        talk = max(0.0, (request.ended_at - request.connected_at).total_seconds())
    return HistoryItem(
        id=request.id,
        reference=decision.reference if decision else None,
        created_at=request.created_at,
        state=RequestState(request.state),
        officer_id=officer.id,
        officer=f"{officer.rank} {officer.forenames} {officer.surname.upper()} "
        f"{officer.collar_number}",
        operator_id=holder.id if holder else None,
        operator=f"{holder.rank} {holder.display_name}".strip() if holder else None,
        outcome=Outcome(decision.outcome) if decision else None,
        reason_code=ReasonCode(decision.reason_code) if decision else None,
        wait_seconds=request.wait_seconds,
        talk_seconds=talk,
    )


def history_page(
    session: Session,
    filters: HistoryFilter,
    role: Role,
    operator_id: int,
    sort: HistorySort,
    limit: int,
    cursor: str | None,
    with_total: bool = False,
) -> HistoryPage:
    """One page, newest or oldest first, continuing after `cursor`."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequestError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    query = _filtered(_base_query(), filters, role, operator_id)
    newest = sort is HistorySort.NEWEST
    if cursor:
        at, last_id = decode_cursor(cursor)
        if newest:
            query = query.where(or_(R.created_at < at, and_(R.created_at == at, R.id < last_id)))
        else:
            query = query.where(or_(R.created_at > at, and_(R.created_at == at, R.id > last_id)))
    order = (R.created_at.desc(), R.id.desc()) if newest else (R.created_at.asc(), R.id.asc())
    rows = session.execute(query.order_by(*order).limit(limit + 1)).all()
    items = [_item(*row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_cursor = encode_cursor(last.created_at, last.id)
    total = None
    if with_total:
        # The filters reach decisions through their own subqueries: no join needed to count.
        count_query = _filtered(select(func.count(R.id)).select_from(R), filters, role, operator_id)
        total = int(session.scalar(count_query) or 0)
    return HistoryPage(items=items, next_cursor=next_cursor, total=total)


def iter_history(
    session: Session, filters: HistoryFilter, role: Role, operator_id: int, sort: HistorySort
) -> Iterator[HistoryItem]:
    """Every matching item, page by page (constant memory, for the CSV export)."""
    cursor: str | None = None
    while True:
        page = history_page(session, filters, role, operator_id, sort, MAX_PAGE_SIZE, cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
        session.expunge_all()


def _percentile(session: Session, base: Select, count: int, fraction: float) -> float | None:
    """Nearest-rank percentile of wait_seconds via ORDER BY/OFFSET (portable, index-friendly)."""
    if count == 0:
        return None
    rank = max(1, math.ceil(fraction * count))
    value = session.scalar(base.order_by(R.wait_seconds).offset(rank - 1).limit(1))
    return float(value) if value is not None else None


def history_stats(
    session: Session, filters: HistoryFilter, role: Role, operator_id: int
) -> HistoryStats:
    """Counts by outcome/state, median and p90 answer time, share answered within 10 s."""
    grouped = _filtered(
        select(R.state, Decision.outcome, func.count(R.id))
        .select_from(R)
        .outerjoin(Decision, Decision.request_id == R.id)
        .group_by(R.state, Decision.outcome),
        filters,
        role,
        operator_id,
    )
    by_outcome: dict[str, int] = {}
    calls = 0
    for state, outcome, count in session.execute(grouped).all():
        key = outcome or state
        by_outcome[key] = by_outcome.get(key, 0) + int(count)
        calls += int(count)
    waits = _filtered(
        select(R.wait_seconds).select_from(R).where(R.wait_seconds.is_not(None)),
        filters,
        role,
        operator_id,
    )
    answered = int(session.scalar(select(func.count()).select_from(waits.subquery())) or 0)
    quick = int(
        session.scalar(
            select(func.count()).select_from(
                waits.where(R.wait_seconds <= ANSWERED_WITHIN_SECONDS).subquery()
            )
        )
        or 0
    )
    # Calls that reached the queue and either got answered or expired count towards the share;
    # a call the officer cancelled before anyone could answer does not.
    expired = by_outcome.get(RequestState.EXPIRED.value, 0)
    offered = answered + expired
    return HistoryStats(
        calls=calls,
        by_outcome=by_outcome,
        median_answer_seconds=_percentile(session, waits, answered, 0.5),
        p90_answer_seconds=_percentile(session, waits, answered, 0.9),
        share_answered_within_10s=(quick / offered) if offered else None,
    )
