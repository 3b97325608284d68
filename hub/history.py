"""History queries: filters, keyset pagination, CSV rows, stats. Portable SQL only."""

from __future__ import annotations

import base64
import binascii
import bisect
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


def _filtered(
    query: Select, filters: HistoryFilter, role: Role, operator_id: int, joined: bool = False
) -> Select:
    """`query` narrowed by `filters` (and to the sergeant's own calls).

    Two shapes for the decision filters, because the planner needs them: a page (ORDER BY
    created_at LIMIT n) filters through a correlated EXISTS, so it walks requests in index order
    and stops after one page; counts and stats (`joined=True`, the query already joins
    `decisions`) filter the join itself, so the planner can start from the decisions index
    instead of probing every request.
    """
    conditions = []
    if filters.from_ is not None:
        conditions.append(R.created_at >= filters.from_)
    if filters.to is not None:
        conditions.append(R.created_at < filters.to)
    decision = Decision if joined else aliased(Decision)
    decided = []
    if filters.outcome is not None:
        decided.append(decision.outcome == filters.outcome.value)
    if filters.reason is not None:
        decided.append(decision.reason_code == filters.reason.value)
    if filters.reference:
        # A reference names at most one call: look it up through the unique index and probe the
        # request by id. As part of the EXISTS below, a page walked every request in created_at
        # order looking for its one match (0.5 s at 1,000,000 calls).
        reference = filters.reference.strip().upper()
        conditions.append(
            R.id.in_(select(Decision.request_id).where(Decision.reference == reference))
        )
    if decided and joined:
        conditions.extend(decided)
    elif decided:
        conditions.append(exists().where(decision.request_id == R.id, *decided))
    if filters.operator_id is not None:
        conditions.append(R.last_holder_id == filters.operator_id)
    if filters.officer_id is not None:
        conditions.append(R.officer_id == filters.officer_id)
    if filters.state is not None:
        conditions.append(R.state == filters.state.value)
    if role is Role.SERGEANT:
        conditions.append(R.last_holder_id == operator_id)  # sergeants: only calls they held
    return query.where(*conditions) if conditions else query


def _has_decision_filter(filters: HistoryFilter) -> bool:
    return filters.outcome is not None or filters.reason is not None or bool(filters.reference)


def _joined(query: Select, filters: HistoryFilter) -> Select:
    """`query` (over requests) inner-joined to decisions only when a decision filter applies."""
    if _has_decision_filter(filters):
        return query.join(Decision, Decision.request_id == R.id)
    return query


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
        counted = _joined(select(func.count(R.id)).select_from(R), filters)
        count_query = _filtered(counted, filters, role, operator_id, joined=True)
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


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def _percentile_by_offset(session: Session, base: Select, count: int, fraction: float) -> float:
    """Nearest-rank percentile via ORDER BY/OFFSET on the wait index (for very many calls)."""
    rank = max(1, math.ceil(fraction * count))
    value = session.scalar(base.order_by(R.wait_seconds).offset(rank - 1).limit(1))
    return float(value or 0.0)


# Up to this many answered calls, their waits are fetched and ranked in Python (one query);
# beyond it, ORDER BY/OFFSET over the wait index avoids moving up to a million floats.
MAX_WAITS_IN_MEMORY = 20_000
# With filters the wait index cannot serve ORDER BY/OFFSET alone, so fetching is cheaper longer.
MAX_FILTERED_WAITS = 300_000


def history_stats(
    session: Session, filters: HistoryFilter, role: Role, operator_id: int
) -> HistoryStats:
    """Counts by outcome/state, median and p90 answer time, share answered within 10 s."""
    # Two narrow group-bys instead of one over requests LEFT JOIN decisions: each can be
    # answered from an index (states from requests, outcomes from decisions).
    states = _filtered(
        _joined(select(R.state, func.count(R.id)).select_from(R), filters).group_by(R.state),
        filters,
        role,
        operator_id,
        joined=True,
    )
    unfiltered = filters == HistoryFilter() and role is not Role.SERGEANT
    outcome_counts = select(Decision.outcome, func.count(Decision.id)).group_by(Decision.outcome)
    if unfiltered:  # answered from the (outcome, reason) index alone
        outcomes = outcome_counts
    elif filters.from_ is not None or filters.to is not None:
        # A time range (the console asks for "today"): the matching request ids come from the
        # created_at index, then their decisions by request_id. As a join, SQLite walked every
        # decision in outcome order instead (0.7 s in process, 3.8 s through a busy hub, for
        # ~1,100 calls among 1,000,000).
        request_ids = _filtered(select(R.id), filters, role, operator_id)
        outcomes = outcome_counts.where(Decision.request_id.in_(request_ids))
    else:
        outcomes = _filtered(
            outcome_counts.join(R, R.id == Decision.request_id),
            filters,
            role,
            operator_id,
            joined=True,
        )
    by_outcome: dict[str, int] = {}
    calls = 0
    for state, count in session.execute(states).all():
        calls += int(count)
        if state not in (RequestState.DECIDED.value, RequestState.ENDED.value):
            by_outcome[state] = int(count)  # decided calls are counted by outcome below
    for outcome, count in session.execute(outcomes).all():
        by_outcome[outcome] = int(count)
    waits = _filtered(
        _joined(select(R.wait_seconds).select_from(R), filters).where(R.wait_seconds.is_not(None)),
        filters,
        role,
        operator_id,
        joined=True,
    )
    answered = int(session.scalar(select(func.count()).select_from(waits.subquery())) or 0)
    if answered <= MAX_WAITS_IN_MEMORY or (not unfiltered and answered <= MAX_FILTERED_WAITS):
        values = sorted(float(v) for v in session.scalars(waits).all())
        median, p90 = _percentile(values, 0.5), _percentile(values, 0.9)
        quick = bisect.bisect_right(values, ANSWERED_WITHIN_SECONDS)
    else:
        median = _percentile_by_offset(session, waits, answered, 0.5)
        p90 = _percentile_by_offset(session, waits, answered, 0.9)
        quick_query = waits.where(R.wait_seconds <= ANSWERED_WITHIN_SECONDS).subquery()
        quick = int(session.scalar(select(func.count()).select_from(quick_query)) or 0)
    # Calls that reached the queue and either got answered or expired count towards the share;
    # a call the officer cancelled before anyone could answer does not.
    expired = by_outcome.get(RequestState.EXPIRED.value, 0)
    offered = answered + expired
    return HistoryStats(
        calls=calls,
        by_outcome=by_outcome,
        median_answer_seconds=median,
        p90_answer_seconds=p90,
        share_answered_within_10s=(quick / offered) if offered else None,
    )
